//! `#[interface]`: from one trait, the schema marker, the host proxy
//! (`<Trait>Client`), the host-side server (`<Trait>Server`) and the
//! plugin-side proxy for host interfaces (`<Trait>Import`).

use crate::common::Method;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use syn::{ItemTrait, TraitItem, Type};

pub fn expand(item: ItemTrait) -> syn::Result<TokenStream> {
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(&item.generics, "interfaces cannot be generic"));
    }
    let mut methods = Vec::new();
    for ti in &item.items {
        match ti {
            TraitItem::Fn(f) => {
                if let Some(body) = &f.default {
                    return Err(syn::Error::new_spanned(
                        body,
                        "interface methods cannot have default bodies: the plugin must export each one",
                    ));
                }
                methods.push(Method::parse(&f.sig)?);
            }
            other => return Err(syn::Error::new_spanned(other, "interfaces contain only methods")),
        }
    }
    let iface = Interface { name: item.ident.clone(), vis: item.vis.clone(), methods };
    let marker = iface.marker();
    let client = iface.client();
    let server = iface.server();
    let import = iface.import();
    Ok(quote! {
        #item
        #marker
        #client
        #server
        #import
    })
}

struct Interface {
    name: Ident,
    vis: syn::Visibility,
    methods: Vec<Method>,
}

/// Names for the values of a method's arguments in generated bodies, so
/// that they never collide with the generated locals.
fn arg_idents(m: &Method) -> Vec<Ident> {
    (0..m.params.len()).map(|i| format_ident!("__arg{}", i)).collect()
}

fn arg_types(m: &Method) -> Vec<&Type> {
    m.params.iter().map(|(_, t)| t).collect()
}

impl Interface {
    fn marker(&self) -> TokenStream {
        let (vis, name) = (&self.vis, &self.name);
        let name_str = name.to_string();
        let methods = self.methods.iter().map(|m| {
            let m_str = m.name.to_string();
            let abi = if m.is_scalar() { quote!(Scalar) } else { quote!(Serialized) };
            let mutable = m.mutable;
            let params = m.params.iter().map(|(n, t)| {
                let n = n.to_string();
                quote!(::scion_sdk::schema::FieldDesc { name: #n, ty: <#t as ::scion_sdk::Schema>::TYPE })
            });
            let result = m.result_type();
            quote! {
                ::scion_sdk::schema::MethodDesc {
                    name: #m_str,
                    abi: ::scion_sdk::schema::Abi::#abi,
                    mutable: #mutable,
                    params: &[#(#params),*],
                    result: <#result as ::scion_sdk::Schema>::TYPE,
                }
            }
        });
        let _ = vis;
        quote! {
            impl ::scion_sdk::Interface for dyn #name {
                const DESC: &'static ::scion_sdk::schema::InterfaceDesc = &::scion_sdk::schema::InterfaceDesc {
                    name: #name_str,
                    methods: &[#(#methods),*],
                };
            }
        }
    }

    fn client(&self) -> TokenStream {
        let (vis, name) = (&self.vis, &self.name);
        let client = format_ident!("{}Client", name);
        let doc = format!(
            "Calls interface [`{name}`] in a plugin through a transport (a `scion::Plugin`).\n\n\
             Every method returns the transport's error when the call fails (a trap, a \
             plugin panic, an exhausted budget, a value that does not decode)."
        );
        let methods = self.methods.iter().enumerate().map(|(m_index, m)| {
            let m_name = &m.name;
            let params = m.params.iter().map(|(n, t)| quote!(#n: #t));
            let names: Vec<&Ident> = m.params.iter().map(|(n, _)| n).collect();
            let result = m.result_type();
            let doc = format!("Calls `{name}::{m_name}` in the plugin.");
            let body = if m.is_scalar() {
                let returns = m.result.is_some();
                let convert = if returns {
                    let what = format!("`{name}.{m_name}` returned a value of the wrong type");
                    quote! {
                        match __result.and_then(<#result as ::scion_sdk::wire::ScalarValue>::from_wasm_bits) {
                            ::core::option::Option::Some(__v) => ::core::result::Result::Ok(__v),
                            ::core::option::Option::None => ::core::result::Result::Err(
                                ::scion_sdk::wire::WireError(::scion_sdk::__private::ToString::to_string(#what)).into(),
                            ),
                        }
                    }
                } else {
                    quote!({ let _ = __result; ::core::result::Result::Ok(()) })
                };
                quote! {
                    let __result = ::scion_sdk::host::Transport::call_scalar_bits(
                        &mut self.transport,
                        <dyn #name as ::scion_sdk::Interface>::DESC,
                        #m_index,
                        &[#(::scion_sdk::wire::ScalarValue::to_wasm_bits(#names)),*],
                        #returns,
                    )?;
                    #convert
                }
            } else {
                quote! {
                    let __input = ::scion_sdk::wire::encode(&(#(#names,)*))?;
                    let __output = ::scion_sdk::host::Transport::call_method(&mut self.transport, <dyn #name as ::scion_sdk::Interface>::DESC, #m_index, &__input)?;
                    ::core::result::Result::Ok(::scion_sdk::wire::decode::<#result>(&__output)?)
                }
            };
            quote! {
                #[doc = #doc]
                pub fn #m_name(&mut self, #(#params),*) -> ::core::result::Result<#result, T::Error> {
                    #body
                }
            }
        });
        quote! {
            #[doc = #doc]
            #vis struct #client<T> {
                transport: T,
            }

            impl<T: ::scion_sdk::host::Transport> #client<T> {
                /// Checks that the plugin implements the interface exactly
                /// as this side describes it, and wraps the transport.
                pub fn new(mut transport: T) -> ::core::result::Result<Self, T::Error> {
                    ::scion_sdk::host::Transport::check(&mut transport, <dyn #name as ::scion_sdk::Interface>::DESC)?;
                    ::core::result::Result::Ok(Self { transport })
                }

                /// The transport.
                pub fn transport(&self) -> &T {
                    &self.transport
                }

                /// The transport, mutably (to set budgets between calls).
                pub fn transport_mut(&mut self) -> &mut T {
                    &mut self.transport
                }

                /// Unwraps the transport.
                pub fn into_inner(self) -> T {
                    self.transport
                }

                #(#methods)*
            }
        }
    }

    fn server(&self) -> TokenStream {
        let (vis, name) = (&self.vis, &self.name);
        let server = format_ident!("{}Server", name);
        let doc = format!(
            "Serves interface [`{name}`] to plugins from a host implementation (give it to \
             `scion::PluginBuilder::host`)."
        );
        let (scalar, serialized): (Vec<&Method>, Vec<&Method>) =
            self.methods.iter().partition(|m| m.is_scalar());
        let serialized_arms = serialized.iter().map(|m| {
            let m_name = &m.name;
            let m_str = m_name.to_string();
            let args = arg_idents(m);
            let tys = arg_types(m);
            quote! {
                #m_str => {
                    let (#(#args,)*): (#(#tys,)*) = ::scion_sdk::wire::decode(__input)?;
                    ::scion_sdk::wire::encode(&#name::#m_name(&mut self.0, #(#args),*))
                }
            }
        });
        let scalar_arms = scalar.iter().map(|m| {
            let m_name = &m.name;
            let m_str = m_name.to_string();
            let args = arg_idents(m);
            let tys = arg_types(m);
            let bad = format!("wrong arguments for `{name}.{m_name}`");
            let ret = if m.result.is_some() {
                quote!(::core::option::Option::Some(::scion_sdk::wire::ScalarValue::to_scalar(__r)))
            } else {
                quote!({ let () = __r; ::core::option::Option::None })
            };
            quote! {
                #m_str => {
                    let __bad = || ::scion_sdk::wire::WireError(::scion_sdk::__private::ToString::to_string(#bad));
                    let [#(#args),*] = __args else { return ::core::result::Result::Err(__bad()) };
                    #(let #args = <#tys as ::scion_sdk::wire::ScalarValue>::from_scalar(*#args).ok_or_else(__bad)?;)*
                    let __r = #name::#m_name(&mut self.0, #(#args),*);
                    ::core::result::Result::Ok(#ret)
                }
            }
        });
        let unknown = format!("interface `{name}` has no such method: ");
        quote! {
            #[doc = #doc]
            #vis struct #server<I>(pub I);

            impl<I: #name + Send> ::scion_sdk::host::Dispatch for #server<I> {
                fn interface(&self) -> &'static ::scion_sdk::schema::InterfaceDesc {
                    <dyn #name as ::scion_sdk::Interface>::DESC
                }

                #[allow(unused_variables, unreachable_code)]
                fn call(
                    &mut self,
                    __method: &str,
                    __input: &[u8],
                ) -> ::core::result::Result<::scion_sdk::__private::Vec<u8>, ::scion_sdk::wire::WireError> {
                    match __method {
                        #(#serialized_arms)*
                        _ => ::core::result::Result::Err(::scion_sdk::wire::WireError(
                            ::scion_sdk::__private::ToString::to_string(#unknown) + __method,
                        )),
                    }
                }

                #[allow(unused_variables, unreachable_code)]
                fn call_scalar(
                    &mut self,
                    __method: &str,
                    __args: &[::scion_sdk::wire::Scalar],
                ) -> ::core::result::Result<::core::option::Option<::scion_sdk::wire::Scalar>, ::scion_sdk::wire::WireError> {
                    match __method {
                        #(#scalar_arms)*
                        _ => ::core::result::Result::Err(::scion_sdk::wire::WireError(
                            ::scion_sdk::__private::ToString::to_string(#unknown) + __method,
                        )),
                    }
                }
            }
        }
    }

    fn import(&self) -> TokenStream {
        let (vis, name) = (&self.vis, &self.name);
        let import = format_ident!("{}Import", name);
        let doc = format!(
            "Calls interface [`{name}`], implemented by the host, from inside a plugin \
             (declare it with `#[plugin(uses({name}))]`). Outside a plugin its methods panic."
        );
        let methods = self.methods.iter().map(|m| {
            let m_name = &m.name;
            let link_name = format!("{name}/{m_name}");
            let args: Vec<&Ident> = m.params.iter().map(|(n, _)| n).collect();
            let tys = arg_types(m);
            let result = m.result_type();
            let doc = format!("Calls the host's `{name}::{m_name}`.");
            let call = if m.is_scalar() {
                let ret_wasm = m.result.as_ref().map(|r| quote!(-> <#r as ::scion_sdk::wire::WasmScalar>::Wasm));
                let invoke = quote!(__scion_import(#(::scion_sdk::wire::WasmScalar::into_wasm(#args)),*));
                let convert = match &m.result {
                    Some(r) => quote!(<#r as ::scion_sdk::wire::WasmScalar>::from_wasm(unsafe { #invoke })),
                    None => quote!(unsafe { #invoke }),
                };
                quote! {
                    #[link(wasm_import_module = "scion-host")]
                    unsafe extern "C" {
                        #[link_name = #link_name]
                        fn __scion_import(#(#args: <#tys as ::scion_sdk::wire::WasmScalar>::Wasm),*) #ret_wasm;
                    }
                    // SAFETY: the host provides this import with exactly this
                    // signature (checked at load against the schema record).
                    #convert
                }
            } else {
                let what = format!("calling host method `{name}.{m_name}`");
                quote! {
                    #[link(wasm_import_module = "scion-host")]
                    unsafe extern "C" {
                        #[link_name = #link_name]
                        fn __scion_import(ptr: *const u8, len: u32) -> i64;
                    }
                    match ::scion_sdk::guest::call_host::<#result>(__scion_import, &(#(#args,)*)) {
                        ::core::result::Result::Ok(__v) => __v,
                        ::core::result::Result::Err(__e) => ::core::panic!("{}: {}", #what, __e),
                    }
                }
            };
            let outside = format!("host interface `{name}` can only be called inside a plugin running in Scion");
            quote! {
                #[doc = #doc]
                pub fn #m_name(&self, #(#args: #tys),*) -> #result {
                    #[cfg(target_arch = "wasm32")]
                    {
                        #call
                    }
                    #[cfg(not(target_arch = "wasm32"))]
                    {
                        let _ = (#(#args,)*);
                        ::core::panic!(#outside)
                    }
                }
            }
        });
        quote! {
            #[doc = #doc]
            #[derive(Clone, Copy, Debug, Default)]
            #vis struct #import;

            impl #import {
                #(#methods)*
            }
        }
    }
}
