//! Macros of the Scion SDK (use them through `scion_sdk`). Each entry point
//! parses, checks, then expands; mistakes become spanned compile errors.

mod common;
mod interface;
mod plugin;
mod schema;

use proc_macro::TokenStream;

/// Describes a struct or enum's shape for interface schemas
/// (implements `scion_sdk::Schema`).
#[proc_macro_derive(Schema, attributes(schema))]
pub fn derive_schema(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    schema::expand(input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Marks a trait as an interface between host and plugin. Generates its
/// schema (`impl scion_sdk::Interface for dyn Trait`), the host proxy
/// `<Trait>Client`, the host-side server `<Trait>Server` (for interfaces
/// the host implements) and the plugin-side proxy `<Trait>Import`.
#[proc_macro_attribute]
pub fn interface(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        let e = syn::Error::new(proc_macro2::Span::call_site(), "#[interface] takes no arguments");
        return e.into_compile_error().into();
    }
    let item = syn::parse_macro_input!(item as syn::ItemTrait);
    interface::expand(item).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Exports a plugin type's implementation of an interface:
/// `#[plugin] impl Filter for MyFilter { ... }`.
///
/// Arguments: `config = Type` (the instance is built with
/// `From<Type>` from the host's configuration; default: `Default`),
/// `state` (the type is `Serialize + Deserialize` and survives hot
/// reloads), `uses(Iface, ...)` (host interfaces the plugin calls), and
/// `additional` (for a second interface of the same type: exports only).
#[proc_macro_attribute]
pub fn plugin(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = syn::parse_macro_input!(item as syn::ItemImpl);
    plugin::expand(attr.into(), item).unwrap_or_else(syn::Error::into_compile_error).into()
}
