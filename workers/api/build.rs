//! Embeds `src/openapi.json` minified: the document is written for people (indented),
//! and the worker serves it, so only its whitespace is dropped from the shipped wasm.

fn main() {
    println!("cargo:rerun-if-changed=src/openapi.json");
    let text = std::fs::read_to_string("src/openapi.json")
        .unwrap_or_else(|e| panic!("reading src/openapi.json: {e}"));
    let doc: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("src/openapi.json is not JSON: {e}"));
    let out = std::env::var("OUT_DIR").unwrap_or_else(|e| panic!("OUT_DIR: {e}"));
    std::fs::write(format!("{out}/openapi.min.json"), doc.to_string())
        .unwrap_or_else(|e| panic!("writing the minified document: {e}"));
}
