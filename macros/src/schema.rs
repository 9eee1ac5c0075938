//! `#[derive(Schema)]`.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use syn::visit_mut::{self, VisitMut};
use syn::{Data, DeriveInput, Fields, Type};

/// serde attributes that change the postcard encoding, which a schema
/// describing the Rust shape would then misrepresent.
/// (`skip` alone is fine: the field is left out of both the encoding and
/// the schema.)
const WIRE_CHANGING: &[&str] = &[
    "skip_serializing",
    "skip_deserializing",
    "skip_serializing_if",
    "flatten",
    "tag",
    "content",
    "untagged",
    "transparent",
    "with",
    "serialize_with",
    "deserialize_with",
    "into",
    "from",
    "try_from",
    "remote",
];

fn check_serde_attrs(attrs: &[syn::Attribute]) -> syn::Result<()> {
    for a in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        a.parse_nested_meta(|meta| {
            if let Some(id) = meta.path.get_ident()
                && WIRE_CHANGING.contains(&id.to_string().as_str())
            {
                return Err(meta.error(format!(
                    "#[serde({id})] changes how the value is encoded, so Schema cannot describe it"
                )));
            }
            // Skip any value (`rename = "x"`) or nested list.
            if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _content;
                syn::parenthesized!(_content in meta.input);
                let _: TokenStream = _content.parse()?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Whether a field has `#[serde(skip)]`.
fn is_skipped(attrs: &[syn::Attribute]) -> bool {
    let mut skipped = false;
    for a in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = a.parse_nested_meta(|meta| {
            skipped |= meta.path.is_ident("skip");
            if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    skipped
}

/// The stand-in for the type itself inside its own fields.
const SELF_REF: &str = "__ScionSelfRef";

/// Replaces the type's own name (and `Self`) in a field type by the
/// stand-in, so that a recursive type describes itself by name instead of
/// infinitely.
struct SelfRef<'a>(&'a Ident);

impl VisitMut for SelfRef<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::Path(p) = ty
            && p.qself.is_none()
            && p.path.segments.len() == 1
        {
            let id = &p.path.segments[0].ident;
            if id == self.0 || id == "Self" {
                *ty = syn::parse_str(SELF_REF).expect("an identifier");
                return;
            }
        }
        visit_mut::visit_type_mut(self, ty);
    }
}

fn fields_desc(fields: &Fields, name: &Ident) -> syn::Result<TokenStream> {
    let mut out = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        check_serde_attrs(&f.attrs)?;
        if is_skipped(&f.attrs) {
            continue;
        }
        let field = f.ident.as_ref().map_or_else(|| i.to_string(), |id| id.to_string());
        let mut ty = f.ty.clone();
        SelfRef(name).visit_type_mut(&mut ty);
        out.push(quote! {
            ::scion_sdk::schema::FieldDesc { name: #field, ty: <#ty as ::scion_sdk::Schema>::TYPE }
        });
    }
    Ok(quote!(&[#(#out),*]))
}

pub fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    check_serde_attrs(&input.attrs)?;
    let name = &input.ident;
    let name_str = name.to_string();
    let mut generics = input.generics.clone();
    for p in generics.type_params_mut() {
        p.bounds.push(syn::parse_quote!(::scion_sdk::Schema));
    }
    let (impl_g, ty_g, where_c) = generics.split_for_impl();
    let body = match &input.data {
        Data::Struct(s) => {
            let fields = fields_desc(&s.fields, name)?;
            quote! {
                ::scion_sdk::schema::TypeDesc::Struct(&::scion_sdk::schema::StructDesc {
                    name: #name_str,
                    fields: #fields,
                })
            }
        }
        Data::Enum(e) => {
            let mut variants = Vec::new();
            for v in &e.variants {
                check_serde_attrs(&v.attrs)?;
                let vname = v.ident.to_string();
                let fields = fields_desc(&v.fields, name)?;
                variants.push(quote! {
                    ::scion_sdk::schema::VariantDesc { name: #vname, fields: #fields }
                });
            }
            quote! {
                ::scion_sdk::schema::TypeDesc::Enum(&::scion_sdk::schema::EnumDesc {
                    name: #name_str,
                    variants: &[#(#variants),*],
                })
            }
        }
        Data::Union(u) => {
            return Err(syn::Error::new_spanned(
                u.union_token,
                "unions cannot cross the plugin boundary",
            ));
        }
    };
    let self_ref = Ident::new(SELF_REF, Span::call_site());
    Ok(quote! {
        const _: () = {
            struct #self_ref;
            impl ::scion_sdk::Schema for #self_ref {
                const TYPE: ::scion_sdk::schema::TypeDesc = ::scion_sdk::schema::TypeDesc::Ref(#name_str);
            }
            impl #impl_g ::scion_sdk::Schema for #name #ty_g #where_c {
                const TYPE: ::scion_sdk::schema::TypeDesc = #body;
            }
        };
    })
}
