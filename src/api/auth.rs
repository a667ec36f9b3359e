//! Bearer tokens: generated once, shown once, kept only as SHA-256 hashes (in the data directory, or
//! in a tokens file / the environment as `NAME ROLE SHA256HEX` lines). Nothing here logs a secret.

use std::io::Read;

use sha2::{Digest, Sha256};

use crate::store::TokenRecord;

/// The roles a token can have.
pub const ROLES: [&str; 3] = ["reader", "editor", "admin"];

/// The hex SHA-256 of a token: what is stored and compared.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new random token (`ig_` and 64 hex digits of /dev/urandom).
pub fn generate_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(format!(
        "ig_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// Parses `NAME ROLE SHA256HEX` lines (blank lines and `#` comments ignored); `source` names the file
/// or variable in errors, with the line.
pub fn parse_tokens(source: &str, text: &str) -> Result<Vec<(String, TokenRecord)>, String> {
    let mut tokens = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [name, role, hash] = fields.as_slice() else {
            return Err(format!(
                "{source}:{}: expected `NAME ROLE SHA256HEX`",
                index + 1
            ));
        };
        if !ROLES.contains(role) {
            return Err(format!(
                "{source}:{}: role `{role}` is not one of {}",
                index + 1,
                ROLES.join(", ")
            ));
        }
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "{source}:{}: `{hash}` is not a SHA-256 in hex (64 digits)",
                index + 1
            ));
        }
        tokens.push((
            hash.to_ascii_lowercase(),
            TokenRecord {
                name: (*name).to_owned(),
                role: (*role).to_owned(),
                created: 0,
            },
        ));
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_hashed_and_parsed_with_line_numbers() {
        let token = generate_token().unwrap();
        assert!(token.starts_with("ig_") && token.len() == 67);
        let hash = hash_token(&token);
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, hash_token("other"));
        let parsed = parse_tokens("t", &format!("# curators\nalice editor {hash}\n\n")).unwrap();
        assert_eq!(parsed[0].1.name, "alice");
        assert_eq!(
            parse_tokens("t", "bob owner abc").unwrap_err(),
            "t:1: role `owner` is not one of reader, editor, admin"
        );
        assert!(
            parse_tokens("t", "x\ncarol editor 12")
                .unwrap_err()
                .starts_with("t:1:")
        );
    }
}
