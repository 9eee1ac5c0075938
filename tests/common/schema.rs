//! Rewriting a plugin's `scion-schema` section, for the tests that lie to
//! the host about a plugin's interface (included by path: it needs no
//! other helper).

/// `wasm` with its `scion-schema` section replaced by `section`.
pub fn with_schema(wasm: &[u8], section: &[u8]) -> Vec<u8> {
    let mut out = wasm[..8].to_vec();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.unwrap();
        if let wasmparser::Payload::CustomSection(c) = &payload
            && c.name() == scion_sdk::abi::SCHEMA_SECTION
        {
            let mut body = Vec::new();
            leb(&mut body, c.name().len() as u64);
            body.extend_from_slice(c.name().as_bytes());
            body.extend_from_slice(section);
            out.push(0);
            leb(&mut out, body.len() as u64);
            out.extend(body);
            continue;
        }
        if let Some((id, range)) = payload.as_section() {
            out.push(id);
            let range = range.start as usize..range.end as usize;
            leb(&mut out, range.len() as u64);
            out.extend_from_slice(&wasm[range]);
        }
    }
    out
}

/// Appends `v` as an unsigned LEB128.
pub fn leb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}
