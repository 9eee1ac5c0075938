//! `#[plugin]`: exports a plugin type's implementation of an interface.
//!
//! Everything generated for the plugin side sits behind
//! `cfg(target_arch = "wasm32")`, so a plugin crate still builds (and its
//! logic can be unit-tested) natively.

use crate::common::Method;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use syn::parse::Parse;
use syn::{ImplItem, ItemImpl, Path, Type};

/// What `#[plugin(...)]` was given.
#[derive(Default)]
struct Args {
    config: Option<Type>,
    state: bool,
    uses: Vec<Path>,
    additional: bool,
}

fn parse_args(attr: TokenStream) -> syn::Result<Args> {
    let mut args = Args::default();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("config") {
            args.config = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("state") {
            args.state = true;
        } else if meta.path.is_ident("additional") {
            args.additional = true;
        } else if meta.path.is_ident("uses") {
            // Full paths, so that a generic one reaches `marker_path`'s
            // error instead of a parse error.
            let content;
            syn::parenthesized!(content in meta.input);
            let paths = content.parse_terminated(Path::parse, syn::Token![,])?;
            args.uses.extend(paths);
        } else {
            return Err(meta.error(
                "expected `config = Type`, `state`, `uses(Interface, ...)` or `additional`",
            ));
        }
        Ok(())
    });
    syn::parse::Parser::parse2(parser, attr)?;
    Ok(args)
}

/// `path::to::Trait` -> `dyn path::to::Trait` (which implements
/// `scion_sdk::Interface`), and the trait's name.
fn marker_path(trait_path: &Path) -> syn::Result<(TokenStream, Ident)> {
    let last = trait_path.segments.last().expect("paths have a segment");
    if !last.arguments.is_empty() {
        return Err(syn::Error::new_spanned(&last.arguments, "interfaces are not generic"));
    }
    Ok((quote!(dyn #trait_path), last.ident.clone()))
}

/// A `#[used]` static in the schema section holding `bytes` (a const
/// expression of type `[u8; LEN]` where `len` gives `LEN`).
fn section_record(len: TokenStream, bytes: TokenStream) -> TokenStream {
    quote! {
        const _: () = {
            const LEN: usize = #len;
            #[used]
            #[unsafe(link_section = "scion-schema")]
            static RECORD: [u8; LEN] = #bytes;
        };
    }
}

fn interface_record(marker: &TokenStream, direction: TokenStream) -> TokenStream {
    section_record(
        quote!(::scion_sdk::schema::record_len(<#marker as ::scion_sdk::Interface>::DESC)),
        quote!(::scion_sdk::schema::encode::<LEN>(
            <#marker as ::scion_sdk::Interface>::DESC,
            ::scion_sdk::schema::Direction::#direction,
        )),
    )
}

fn type_record(ty: &Type, role: TokenStream) -> TokenStream {
    section_record(
        quote!(::scion_sdk::schema::type_record_len(&<#ty as ::scion_sdk::Schema>::TYPE)),
        quote!(::scion_sdk::schema::encode_type::<LEN>(
            &<#ty as ::scion_sdk::Schema>::TYPE,
            ::scion_sdk::schema::TypeRole::#role,
        )),
    )
}

pub fn expand(attr: TokenStream, item: ItemImpl) -> syn::Result<TokenStream> {
    let args = parse_args(attr)?;
    let Some((None, trait_path, _)) = &item.trait_ else {
        return Err(syn::Error::new_spanned(
            &item.self_ty,
            "#[plugin] goes on an implementation of an interface: `impl Interface for MyPlugin`",
        ));
    };
    if !item.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(&item.generics, "a plugin type cannot be generic"));
    }
    if args.additional && (args.config.is_some() || args.state || !args.uses.is_empty()) {
        return Err(syn::Error::new_spanned(
            trait_path,
            "`additional` exports one more interface; put `config`, `state` and `uses` on the main #[plugin]",
        ));
    }
    let self_ty = &*item.self_ty;
    let (marker, iface) = marker_path(trait_path)?;
    let iface_str = iface.to_string();

    let mut exports = Vec::new();
    for it in &item.items {
        let ImplItem::Fn(f) = it else { continue };
        let m = Method::parse(&f.sig)?;
        exports.push(export_glue(&m, self_ty, trait_path, &marker, &iface_str));
    }

    let mut records = vec![interface_record(&marker, quote!(Export))];
    for used in &args.uses {
        let (used_marker, _) = marker_path(used)?;
        records.push(interface_record(&used_marker, quote!(Import)));
    }
    let mut lifecycle = Vec::new();
    if !args.additional {
        lifecycle.push(init_glue(self_ty, args.config.as_ref()));
        if let Some(cfg) = &args.config {
            records.push(type_record(cfg, quote!(Config)));
        }
    }
    if args.state {
        lifecycle.push(state_glue(self_ty));
        records.push(type_record(self_ty, quote!(State)));
    }

    // The state type's requirements, checked on every target (the glue
    // that needs them is only compiled for wasm32), so that a native
    // build or `cargo check` reports them too.
    let state_check = args.state.then(|| {
        quote! {
            const _: fn() = || {
                fn plugin_state_must_derive_schema_serialize_and_deserialize<
                    T: ::scion_sdk::Schema
                        + ::scion_sdk::__private::serde::Serialize
                        + ::scion_sdk::__private::serde::de::DeserializeOwned,
                >() {
                }
                plugin_state_must_derive_schema_serialize_and_deserialize::<#self_ty>();
            };
        }
    });

    Ok(quote! {
        #item

        #state_check

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            #(#exports)*
            #(#lifecycle)*
            #(#records)*
        };
    })
}

/// The export of one method, and a compile-time check that the plugin
/// chose the same calling convention as the interface (they can differ
/// when the impl spells a type differently, e.g. through an alias).
fn export_glue(
    m: &Method,
    self_ty: &Type,
    trait_path: &Path,
    marker: &TokenStream,
    iface: &str,
) -> TokenStream {
    let m_name = &m.name;
    let m_str = m_name.to_string();
    let export_name = format!("scion:{iface}/{m_name}");
    let glue = format_ident!("__scion_export_{}", m_name);
    let args: Vec<Ident> = (0..m.params.len()).map(|i| format_ident!("__arg{}", i)).collect();
    let tys: Vec<&Type> = m.params.iter().map(|(_, t)| t).collect();
    let is_scalar = m.is_scalar();
    let mismatch = format!(
        "#[plugin]: method `{m_str}` is spelled with other types than in the interface trait; use the trait's exact types"
    );
    let check = quote! {
        const _: () = ::core::assert!(
            ::core::matches!(
                ::scion_sdk::__private::method_is_scalar(<#marker as ::scion_sdk::Interface>::DESC, #m_str),
                ::core::option::Option::Some(#is_scalar)
            ),
            #mismatch
        );
    };
    let instance = quote!(::scion_sdk::guest::instance::<#self_ty>());
    let function = if is_scalar {
        let ret = m.result.as_ref().map(|r| quote!(-> <#r as ::scion_sdk::wire::WasmScalar>::Wasm));
        let call = quote!(<#self_ty as #trait_path>::#m_name(#instance, #(<#tys as ::scion_sdk::wire::WasmScalar>::from_wasm(#args)),*));
        let body = match &m.result {
            Some(_) => quote!(::scion_sdk::wire::WasmScalar::into_wasm(#call)),
            None => quote!(#call),
        };
        quote! {
            #[unsafe(export_name = #export_name)]
            extern "C" fn #glue(#(#args: <#tys as ::scion_sdk::wire::WasmScalar>::Wasm),*) #ret {
                #body
            }
        }
    } else {
        let what = format!("arguments of `{iface}.{m_str}`");
        quote! {
            #[unsafe(export_name = #export_name)]
            unsafe extern "C" fn #glue(__ptr: *mut u8, __len: u32) -> i64 {
                // SAFETY: the host hands over a buffer it got from
                // `scion_alloc(__len)` and filled.
                let __input = unsafe { ::scion_sdk::guest::take_input(__ptr, __len) };
                let (#(#args,)*): (#(#tys,)*) = ::scion_sdk::guest::decode_args(&__input, #what);
                ::core::mem::drop(__input);
                let __result = <#self_ty as #trait_path>::#m_name(#instance, #(#args),*);
                ::scion_sdk::guest::reply(&__result)
            }
        }
    };
    quote! {
        #check
        #function
    }
}

/// `scion_init`: sets up the runtime and builds the plugin instance from
/// the host's configuration (or `Default`).
fn init_glue(self_ty: &Type, config: Option<&Type>) -> TokenStream {
    let build = match config {
        Some(cfg) => quote! {
            let __config: #cfg = match ::scion_sdk::wire::decode(&__bytes) {
                ::core::result::Result::Ok(__c) => __c,
                ::core::result::Result::Err(__e) => {
                    ::scion_sdk::guest::report_panic(&::scion_sdk::__private::format!("invalid configuration: {}", __e));
                    return 1;
                }
            };
            <#self_ty as ::core::convert::From<#cfg>>::from(__config)
        },
        None => quote!(<#self_ty as ::core::default::Default>::default()),
    };
    quote! {
        #[unsafe(no_mangle)]
        unsafe extern "C" fn scion_init(__ptr: *mut u8, __len: u32) -> i32 {
            ::scion_sdk::guest::init_runtime();
            // SAFETY: the host hands over a buffer from `scion_alloc(__len)`.
            let __bytes = unsafe { ::scion_sdk::guest::take_input(__ptr, __len) };
            let __instance: #self_ty = { #build };
            ::scion_sdk::guest::set_instance(__instance);
            0
        }
    }
}

/// `scion_save_state` / `scion_restore_state` for hot reload.
fn state_glue(self_ty: &Type) -> TokenStream {
    quote! {
        #[unsafe(no_mangle)]
        extern "C" fn scion_save_state() -> i64 {
            ::scion_sdk::guest::save_state::<#self_ty>()
        }

        #[unsafe(no_mangle)]
        unsafe extern "C" fn scion_restore_state(__ptr: *mut u8, __len: u32) -> i32 {
            // SAFETY: the host hands over a buffer from `scion_alloc(__len)`.
            unsafe { ::scion_sdk::guest::restore_state::<#self_ty>(__ptr, __len) }
        }
    }
}
