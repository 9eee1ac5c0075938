//! Helpers shared by the macros: the scalar ABI rule and method parsing.

use proc_macro2::{Ident, TokenStream};
use quote::quote;
use syn::{FnArg, Pat, ReturnType, Signature, Type};

/// The wasm value type a scalar Rust type travels as, if it is scalar.
pub fn scalar_wasm(ty: &Type) -> Option<TokenStream> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() || p.path.segments.len() != 1 {
        return None;
    }
    let seg = &p.path.segments[0];
    if !seg.arguments.is_empty() {
        return None;
    }
    Some(match seg.ident.to_string().as_str() {
        "i8" | "i16" | "i32" | "u8" | "u16" | "u32" | "bool" | "char" => quote!(i32),
        "i64" | "u64" => quote!(i64),
        "f32" => quote!(f32),
        "f64" => quote!(f64),
        _ => return None,
    })
}

/// A method of an interface, as both macros see it.
pub struct Method {
    pub name: Ident,
    pub mutable: bool,
    pub params: Vec<(Ident, Type)>,
    /// `None` for `()`.
    pub result: Option<Type>,
}

impl Method {
    /// Whether all arguments and the result travel as wasm values.
    pub fn is_scalar(&self) -> bool {
        self.params.iter().all(|(_, t)| scalar_wasm(t).is_some())
            && self.result.as_ref().is_none_or(|t| scalar_wasm(t).is_some())
    }

    /// The result type, `()` when there is none.
    pub fn result_type(&self) -> TokenStream {
        match &self.result {
            Some(t) => quote!(#t),
            None => quote!(()),
        }
    }

    /// Parses a method signature, rejecting what cannot cross the boundary.
    pub fn parse(sig: &Signature) -> syn::Result<Method> {
        let err = |msg: &str| Err(syn::Error::new_spanned(sig, msg));
        if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
            return err("interface methods cannot be generic");
        }
        if sig.asyncness.is_some() || sig.unsafety.is_some() || sig.variadic.is_some() {
            return err("interface methods cannot be async, unsafe or variadic");
        }
        let mut inputs = sig.inputs.iter();
        let mutable = match inputs.next() {
            Some(FnArg::Receiver(r)) if r.reference.is_some() => r.mutability.is_some(),
            _ => return err("interface methods take `&self` or `&mut self`"),
        };
        let mut params = Vec::new();
        for arg in inputs {
            let FnArg::Typed(pt) = arg else { return err("unexpected receiver") };
            let Pat::Ident(pi) = &*pt.pat else {
                return Err(syn::Error::new_spanned(
                    &pt.pat,
                    "interface arguments must be plain names",
                ));
            };
            if matches!(&*pt.ty, Type::Reference(_) | Type::ImplTrait(_)) {
                return Err(syn::Error::new_spanned(
                    &pt.ty,
                    "interface arguments must be owned types (String, Vec<T>, ...), not references",
                ));
            }
            params.push((pi.ident.clone(), (*pt.ty).clone()));
        }
        let result = match &sig.output {
            ReturnType::Default => None,
            ReturnType::Type(_, t) if matches!(&**t, Type::Tuple(tt) if tt.elems.is_empty()) => {
                None
            }
            ReturnType::Type(_, t) if matches!(&**t, Type::Reference(_) | Type::ImplTrait(_)) => {
                return Err(syn::Error::new_spanned(t, "interface results must be owned types"));
            }
            ReturnType::Type(_, t) => Some((**t).clone()),
        };
        Ok(Method { name: sig.ident.clone(), mutable, params, result })
    }
}
