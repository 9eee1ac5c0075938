//! Comparing a plugin's schema section with the host's view: interfaces
//! it implements, host interfaces it calls, its configuration type, and
//! the wasm signatures of the functions behind them.
//!
//! The section is untrusted input: decoding errors and lies (a record
//! that does not match the actual exports) come back as errors.

use crate::info::ModuleInfo;
use crate::types::{FuncType, ValType};
use crate::{Error, Result};
use scion_sdk::abi::SCHEMA_SECTION;
use scion_sdk::schema::{
    self, Abi, Direction, InterfaceDesc, OwnedInterface, OwnedMethod, OwnedType, SchemaSection,
};

/// Decodes a module's schema section (`plugin` names it in errors; an
/// absent section is empty; several are one, concatenated). The section
/// is at most [`schema::MAX_SECTION_BYTES`] with at most
/// [`schema::MAX_RECORDS`] records, and decodes in time proportional to
/// its size.
pub fn read_section(plugin: &str, info: &ModuleInfo) -> Result<SchemaSection> {
    let sections = || info.custom_sections.iter().filter(|(n, _)| n == SCHEMA_SECTION);
    let total = sections().try_fold(0usize, |n, (_, b)| n.checked_add(b.len()));
    if total.is_none_or(|n| n > schema::MAX_SECTION_BYTES) {
        return Err(Error::Schema(format!(
            "plugin `{plugin}`: section `{SCHEMA_SECTION}` is larger than the limit of {} bytes \
             (schema::MAX_SECTION_BYTES)",
            schema::MAX_SECTION_BYTES
        )));
    }
    let mut bytes = Vec::with_capacity(total.unwrap_or(0));
    for (_, b) in sections() {
        bytes.extend_from_slice(b);
    }
    schema::decode(&bytes)
        .map_err(|e| Error::Schema(format!("plugin `{plugin}`: section `{SCHEMA_SECTION}`: {e}")))
}

/// Checks that the configuration the host passes is the one the plugin
/// takes.
pub(crate) fn check_config(
    plugin: &str,
    section: &SchemaSection,
    config: Option<&ConfigSetting>,
) -> Result<()> {
    match (config, &section.config) {
        (Some(Err(e)), _) => {
            Err(Error::Wire(format!("the configuration of plugin `{plugin}`: {e}")))
        }
        (Some(Ok((_, host))), Some(theirs)) => {
            match schema::diff_type("the configuration", host, theirs) {
                Some(d) => Err(Error::Schema(format!("plugin `{plugin}`: {d}"))),
                None => Ok(()),
            }
        }
        (Some(Ok((_, host))), None) => Err(Error::Schema(format!(
            "plugin `{plugin}` takes no configuration, but the host passes a {host}"
        ))),
        (None, Some(theirs)) => Err(Error::Schema(format!(
            "plugin `{plugin}` needs a configuration of type {theirs}; pass one with PluginBuilder::config"
        ))),
        (None, None) => Ok(()),
    }
}

/// An encoded configuration and its type, or why it did not encode.
pub(crate) type ConfigSetting = std::result::Result<(Vec<u8>, OwnedType), String>;

/// Checks that the plugin implements `desc` exactly as the host sees it.
pub(crate) fn check_export(
    plugin: &str,
    section: &SchemaSection,
    desc: &InterfaceDesc,
) -> Result<()> {
    let Some(theirs) = section.interface(desc.name, Direction::Export) else {
        let others: Vec<&str> = section
            .interfaces
            .iter()
            .filter(|i| i.direction == Direction::Export)
            .map(|i| i.name.as_str())
            .collect();
        let hint = if others.is_empty() {
            " (it implements none: was it built with #[scion_sdk::plugin]?)".to_string()
        } else {
            format!(" (it implements {})", schema::name_list(&others))
        };
        return Err(Error::Schema(format!(
            "plugin `{plugin}` does not implement interface `{}`{hint}",
            desc.name
        )));
    };
    let ours = OwnedInterface::of(desc, Direction::Export);
    match schema::diff(&ours, theirs) {
        Some(d) => Err(Error::Schema(format!("plugin `{plugin}`: {d}"))),
        None => Ok(()),
    }
}

/// Checks a host method the plugin imports against the plugin's record of
/// that interface; returns the host's view of the method.
pub(crate) fn check_import(
    plugin: &str,
    section: &SchemaSection,
    desc: &InterfaceDesc,
    method: &str,
) -> Result<OwnedMethod> {
    let ours = OwnedInterface::of(desc, Direction::Import);
    let Some(host_method) = ours.methods.iter().find(|m| m.name == method) else {
        return Err(Error::Link(format!(
            "plugin `{plugin}` calls `{}.{method}`, which the host's interface `{}` does not have",
            desc.name, desc.name
        )));
    };
    let Some(theirs) = section.interface(desc.name, Direction::Import) else {
        return Err(Error::Schema(format!(
            "plugin `{plugin}` calls host interface `{}` without declaring it: add `uses({})` to its #[plugin]",
            desc.name, desc.name
        )));
    };
    // Only the methods the plugin calls matter (the plugin's record names
    // each method once; cloning just those keeps this independent of the
    // size of the record).
    let called = OwnedInterface {
        name: ours.name.clone(),
        direction: ours.direction,
        methods: vec![host_method.clone()],
    };
    let theirs = OwnedInterface {
        name: theirs.name.clone(),
        direction: theirs.direction,
        methods: theirs.methods.iter().filter(|m| m.name == method).take(1).cloned().collect(),
    };
    match schema::diff(&called, &theirs) {
        Some(d) => Err(Error::Schema(format!("plugin `{plugin}`: {d}"))),
        None => Ok(host_method.clone()),
    }
}

/// The wasm value type of a scalar schema type.
fn scalar_type(t: &OwnedType) -> Option<ValType> {
    match t {
        OwnedType::Leaf("bool" | "u8" | "u16" | "u32" | "i8" | "i16" | "i32" | "char") => {
            Some(ValType::I32)
        }
        OwnedType::Leaf("u64" | "i64") => Some(ValType::I64),
        OwnedType::Leaf("f32") => Some(ValType::F32),
        OwnedType::Leaf("f64") => Some(ValType::F64),
        _ => None,
    }
}

/// The wasm signature of a method's export or import.
pub(crate) fn wasm_signature(m: &OwnedMethod) -> Result<FuncType> {
    match m.abi {
        Abi::Serialized => Ok(FuncType::new([ValType::I32, ValType::I32], [ValType::I64])),
        Abi::Scalar => {
            let bad = || {
                Error::Schema(format!(
                    "method `{}` is marked scalar but has non-scalar types",
                    m.name
                ))
            };
            let params = m
                .params
                .iter()
                .map(|(_, t)| scalar_type(t).ok_or_else(bad))
                .collect::<Result<Vec<_>>>()?;
            let results = match &m.result {
                OwnedType::Leaf("()") => vec![],
                t => vec![scalar_type(t).ok_or_else(bad)?],
            };
            Ok(FuncType::new(params, results))
        }
    }
}
