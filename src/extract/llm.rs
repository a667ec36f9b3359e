//! Optional model-assisted extraction: any OpenAI-compatible chat-completions endpoint (a local
//! server, say) is asked for the organisations and relations of a report as JSON. Its answer is only
//! a proposal like the rules' and passes exactly the same gate: a name not in the text, an unknown kind
//! or an endpoint it did not name is dropped here, a quote not verbatim in the text by `verify`, each
//! with the reason.

use std::time::Duration;

use serde_json::{Value, json};

use super::gazetteer::{Gazetteer, slug_of_name};
use super::{Dropped, EntityProposal, Raw, RelationProposal, Report, Status};
use crate::model::{Basis, EntityKind, RelationKind};

/// Where and what to ask.
#[derive(Clone, Debug)]
pub struct LlmConfig {
    /// The endpoint's base URL (`http://127.0.0.1:8000/v1`) or its full chat-completions URL.
    pub url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub timeout: Duration,
}

const INSTRUCTIONS: &str = "You extract an innovation-ecosystem knowledge graph from a Chinese government \
report. Answer with JSON only: {\"entities\": [{\"name\": NAME AS WRITTEN IN THE TEXT, \"kind\": KIND}], \
\"relations\": [{\"kind\": RELATION_KIND, \"source\": NAME, \"target\": NAME, \"quote\": THE SHORTEST \
VERBATIM SPAN OF THE TEXT THAT STATES IT}]}. KIND is one of UNIVERSITY, RESEARCH_INSTITUTE, LAB, \
ENTERPRISE, GOVERNMENT, DISTRICT, PLATFORM, FACILITY, ALLIANCE, PROGRAM, POLICY. RELATION_KIND is one of \
CO_BUILT_BY (built thing -> builder), LOCATED_IN (organisation -> district or platform), LEADS, PART_OF, \
RELIES_ON, COOPERATES_WITH, ORGANIZES, MEMBER_OF, SUPPORTS, PARTICIPATES_IN, RESPONSIBLE_FOR (government \
body -> what a 责任单位 clause assigns it), ISSUED_BY (policy -> government body), APPLIES_TO (programme or \
policy -> district). Only named, specific things are entities; generic categories and collective phrases \
(各区县科技局, 省级重点实验室) are not. Never invent a quote: copy it character for character.";

/// Asks the model and turns its answer into proposals, dropping what does not hold.
pub fn propose(report: &Report, gazetteer: &Gazetteer, config: &LlmConfig) -> Result<Raw, String> {
    let url = if config.url.ends_with("/chat/completions") {
        config.url.clone()
    } else {
        format!("{}/chat/completions", config.url.trim_end_matches('/'))
    };
    let body = json!({
        "model": config.model,
        "temperature": 0,
        "messages": [
            { "role": "system", "content": INSTRUCTIONS },
            { "role": "user", "content": report.text },
        ],
    });
    let agent = ureq::AgentBuilder::new().timeout(config.timeout).build();
    let mut request = agent.post(&url);
    if let Some(key) = &config.api_key {
        request = request.set("Authorization", &format!("Bearer {key}"));
    }
    let answer: Value = request
        .send_json(body)
        .map_err(|e| format!("the model endpoint {url} failed: {e}"))?
        .into_json()
        .map_err(|e| format!("the model endpoint {url} did not answer JSON: {e}"))?;
    let content = answer
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the model endpoint {url} gave no choices[0].message.content"))?;
    Ok(interpret(content, report, gazetteer))
}

/// Turns a model's answer (JSON, maybe inside a ``` fence) into proposals.
pub fn interpret(content: &str, report: &Report, gazetteer: &Gazetteer) -> Raw {
    let mut raw = Raw::default();
    let trimmed = content
        .trim()
        .trim_start_matches("```json")
        .trim_start_matches("```")
        .trim_end_matches("```")
        .trim();
    let Ok(answer) = serde_json::from_str::<Value>(trimmed) else {
        raw.dropped.push(Dropped {
            what: "the model's answer".to_owned(),
            why: "it is not the JSON asked for".to_owned(),
        });
        return raw;
    };
    let mut ids: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for entity in answer["entities"].as_array().into_iter().flatten() {
        let name = entity["name"].as_str().unwrap_or("").trim().to_owned();
        let what = format!("entity «{name}» (model)");
        let Some(offset) = report.text.find(&name).filter(|_| !name.is_empty()) else {
            raw.dropped.push(Dropped {
                what,
                why: "its name is not in the text".to_owned(),
            });
            continue;
        };
        let kind = match entity["kind"].as_str().unwrap_or("").parse::<EntityKind>() {
            Ok(kind) => kind,
            Err(error) => {
                raw.dropped.push(Dropped {
                    what,
                    why: error.to_string(),
                });
                continue;
            }
        };
        let (id, status, kind) = match gazetteer.lookup(&name) {
            Some(known) if known.existing => (known.id.clone(), Status::Existing, known.kind),
            Some(known) => (known.id.clone(), Status::New, known.kind),
            None => (slug_of_name(&name), Status::New, kind),
        };
        ids.insert(name.clone(), id.clone());
        raw.entities.push(EntityProposal {
            id,
            kind,
            name,
            aliases: Vec::new(),
            status,
            confidence: 0.6,
            rule: "model".to_owned(),
            offset,
        });
    }
    for relation in answer["relations"].as_array().into_iter().flatten() {
        let text = |key: &str| relation[key].as_str().unwrap_or("").trim().to_owned();
        let (source, target, quote) = (text("source"), text("target"), text("quote"));
        let what = format!("{source} {} {target} (model)", text("kind"));
        let kind = match text("kind").parse::<RelationKind>() {
            Ok(kind) => kind,
            Err(error) => {
                raw.dropped.push(Dropped {
                    what,
                    why: error.to_string(),
                });
                continue;
            }
        };
        let (Some(source_id), Some(target_id)) = (ids.get(&source), ids.get(&target)) else {
            raw.dropped.push(Dropped {
                what,
                why: "an endpoint is not among the entities it found in the text".to_owned(),
            });
            continue;
        };
        raw.relations.push(RelationProposal {
            kind,
            source: source_id.clone(),
            target: target_id.clone(),
            quote,
            basis: Basis::Stated,
            confidence: 0.6,
            rule: "model".to_owned(),
        });
    }
    raw
}
