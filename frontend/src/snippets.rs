//! The code the dashboard hands a developer to copy: a first metered call with the
//! TypeScript client and with curl, for this deployment's API address, with their key
//! filled in when the dashboard has it on screen, or read from `DREAM_API_KEY`
//! otherwise. Each runs as copied (curl in a POSIX shell, the client as an ES module on
//! Node 20+).

/// The end-user the first call meters.
pub const FIRST_END_USER: &str = "user_123";

/// `key`: the API key itself, or `None` to read it from `DREAM_API_KEY`.
pub fn curl(api_url: &str, key: Option<&str>) -> String {
    let api_url = api_url.trim_end_matches('/');
    let (intro, bearer) = match key {
        Some(key) => ("# Your first metered call, with your key.".to_string(), key.to_string()),
        None => (
            "# DREAM_API_KEY: your API key, from the dashboard after you sign in.".to_string(),
            "$DREAM_API_KEY".to_string(),
        ),
    };
    format!(
        "{intro}\n\
         # 200 and \"allowed\": true = go ahead; 403 = the end-user's tier (or your plan) is used up.\n\
         curl -sS -X POST {api_url}/v1/usage/track \\\n  \
         -H \"Authorization: Bearer {bearer}\" \\\n  \
         -H \"Content-Type: application/json\" \\\n  \
         -d '{{\"userId\": \"{FIRST_END_USER}\"}}'"
    )
}

/// The same call with `@dream-api/client`.
pub fn sdk(api_url: &str, key: Option<&str>) -> String {
    let api_url = api_url.trim_end_matches('/');
    let api_key = match key {
        Some(key) => format!("\"{key}\""),
        None => "process.env.DREAM_API_KEY".into(),
    };
    let note = if key.is_some() {
        "// Keep the key on your server (an environment variable), never in a browser."
    } else {
        "// DREAM_API_KEY: your API key, from the dashboard after you sign in."
    };
    format!(
        "// npm install @dream-api/client — then run this as an ES module (track.mjs).\n\
         {note}\n\
         import {{ DreamApi }} from \"@dream-api/client\";\n\
         \n\
         const dream = new DreamApi({{ apiKey: {api_key}, baseUrl: \"{api_url}\" }});\n\
         const result = await dream.track(\"{FIRST_END_USER}\");\n\
         console.log(result.allowed ? \"allowed\" : `refused: ${{result.reason}}`, result.usage);"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curl_call_sends_json_to_this_deployments_track_route_with_the_key() {
        let text = curl("http://127.0.0.1:8787/", Some("pk_live_abc"));
        assert!(text.contains("curl -sS -X POST http://127.0.0.1:8787/v1/usage/track"), "{text}");
        assert!(text.contains("-H \"Content-Type: application/json\""), "{text}");
        assert!(text.contains("Bearer pk_live_abc"), "{text}");
        assert!(text.contains(r#"-d '{"userId": "user_123"}'"#), "{text}");
        // Every line but the last continues the command; none is left dangling.
        let command: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        let (last, rest) = command.split_last().expect("a command");
        assert!(rest.iter().all(|l| l.ends_with(" \\")), "{text}");
        assert!(!last.ends_with('\\'), "{text}");
    }

    #[test]
    fn without_the_key_on_screen_both_snippets_read_it_from_the_environment() {
        let text = curl("https://api.example.com", None);
        assert!(text.contains("Bearer $DREAM_API_KEY"), "{text}");
        assert!(text.contains("DREAM_API_KEY: your API key"), "{text}");
        let text = sdk("https://api.example.com", None);
        assert!(text.contains("apiKey: process.env.DREAM_API_KEY"), "{text}");
        assert!(!text.contains("pk_live_"), "{text}");
    }

    #[test]
    fn the_client_snippet_imports_the_package_and_names_the_base_url() {
        let text = sdk("http://127.0.0.1:8787", Some("pk_live_abc"));
        assert!(text.contains("import { DreamApi } from \"@dream-api/client\";"), "{text}");
        assert!(
            text.contains(
                r#"new DreamApi({ apiKey: "pk_live_abc", baseUrl: "http://127.0.0.1:8787" })"#
            ),
            "{text}"
        );
        assert!(text.contains("await dream.track(\"user_123\")"), "{text}");
        assert!(text.contains("`refused: ${result.reason}`"), "{text}");
    }
}
