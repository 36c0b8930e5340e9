//! Live answers checked against the OpenAPI document the node itself serves: each response's
//! JSON must validate against the schema the document gives for its route, method and status
//! (JSON Schema 2020-12, as OpenAPI 3.1 specifies).

use crate::http;
use serde_json::{json, Value};

pub struct OpenApi {
    document: Value,
}

impl OpenApi {
    /// The document served at `api`'s `/v1/openapi.json`.
    pub fn served_by(api: &str) -> Self {
        let (status, body) = http(api, "GET", "/v1/openapi.json", b"");
        assert_eq!(status, 200, "the OpenAPI document is served");
        let document = serde_json::from_slice(&body).expect("the OpenAPI document is JSON");
        Self { document }
    }

    /// `GET path` on `api`, whose route in the document is `route`: checks that the answer's
    /// status is documented for the route and that its body validates against that response's
    /// schema; returns the body.
    pub fn get(&self, api: &str, route: &str, path: &str) -> Value {
        let (status, body) = http(api, "GET", path, b"");
        let body: Value = serde_json::from_slice(&body).unwrap_or_else(|error| {
            panic!("GET {path} answered {status} that is not JSON: {error}")
        });
        self.check(route, "get", status, &body, path);
        body
    }

    /// Checks `body`, the answer with `status` to `method` on `route` (`path` names it in a
    /// failure), against the document.
    pub fn check(&self, route: &str, method: &str, status: u16, body: &Value, path: &str) {
        let response = &self.document["paths"][route][method]["responses"][status.to_string()];
        let schema = &response["content"]["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "{method} {route} documents no JSON schema for status {status} (asked {path}: {body})"
        );
        // Response schemas refer to `#/components/…`: they resolve against a root that holds
        // the document's components.
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.document["components"],
            "allOf": [schema],
        });
        let validator = jsonschema::draft202012::new(&root)
            .unwrap_or_else(|error| panic!("the schema of {method} {route} {status}: {error}"));
        let errors: Vec<String> = (validator.iter_errors(body))
            .map(|error| format!("{} at {}", error, error.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} ({status}) does not match the OpenAPI schema:\n{}\n{body}",
            errors.join("\n")
        );
    }
}
