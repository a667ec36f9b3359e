//! Where sentences, clauses, lines and numbered headings begin and end, and quotes cut from them.

/// Ends of a sentence.
const SENTENCE_ENDS: &[char] = &['。', '；', ';', '！', '？', '\n'];
/// Ends of a clause (and of a sentence).
const CLAUSE_ENDS: &[char] = &['。', '；', ';', '！', '？', '\n', '，', ',', '：', ':', '|'];

fn back_to(text: &str, at: usize, ends: &[char]) -> usize {
    text[..at].rfind(ends).map_or(0, |i| {
        i + text[i..].chars().next().map_or(1, char::len_utf8)
    })
}

fn forward_to(text: &str, at: usize, ends: &[char], keep: bool) -> usize {
    match text[at..].find(ends) {
        Some(i) => {
            let end = at + i;
            let c = text[end..].chars().next().unwrap_or('\n');
            if keep && c != '\n' && c != '|' && c != ',' && c != '，' {
                end + c.len_utf8()
            } else {
                end
            }
        }
        None => text.len(),
    }
}

/// The sentence around `start..end` (without its end mark).
pub fn sentence(text: &str, start: usize, end: usize) -> (usize, usize) {
    (
        back_to(text, start, SENTENCE_ENDS),
        forward_to(text, end, SENTENCE_ENDS, false),
    )
}

/// The clause around `start..end`.
pub fn clause(text: &str, start: usize, end: usize) -> (usize, usize) {
    (
        back_to(text, start, CLAUSE_ENDS),
        forward_to(text, end, CLAUSE_ENDS, false),
    )
}

/// The line around `at`.
pub fn line(text: &str, at: usize) -> (usize, usize) {
    (
        back_to(text, at, &['\n']),
        forward_to(text, at, &['\n'], false),
    )
}

fn trimmed(text: &str, (start, end): (usize, usize)) -> String {
    text[start..end].trim().to_owned()
}

/// The shortest quote stating something about two mentions: one clause run if they share a
/// sentence, else the two clauses joined by the elision mark if they share a line, else the
/// clause of the second.
pub fn quote_two(text: &str, a: (usize, usize), b: (usize, usize)) -> String {
    let (first, second) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    let s1 = sentence(text, first.0, first.1);
    let s2 = sentence(text, second.0, second.1);
    if s1 == s2 {
        let c1 = clause(text, first.0, first.1);
        let c2 = clause(text, second.0, second.1);
        return trimmed(text, (c1.0, c2.1.max(c1.1)));
    }
    let c1 = trimmed(text, clause(text, first.0, first.1));
    let c2 = trimmed(text, clause(text, second.0, second.1));
    if line(text, first.0) == line(text, second.0) && !c1.is_empty() && !c2.is_empty() {
        format!("{c1}[…]{c2}")
    } else {
        c2
    }
}

/// The clause of one mention.
pub fn quote_one(text: &str, span: (usize, usize)) -> String {
    trimmed(text, clause(text, span.0, span.1))
}

/// A numbered heading: its level (一、 0; (一) 1; 1. 2; 一是 3) and where its first sentence ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Heading {
    pub level: u8,
    pub start: usize,
    /// End of the heading's first sentence (the heading proper).
    pub title_end: usize,
}

const NUMERALS: &str = "一二三四五六七八九十";

/// The headings of a text, in order: at the start of a line or after a sentence end.
pub fn headings(text: &str) -> Vec<Heading> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let prev = text[..at].chars().next_back();
        let boundary = prev.is_none_or(|c| matches!(c, '\n' | '。' | '；' | ';'));
        let rest = &text[at..];
        let step = rest.chars().next().map_or(1, char::len_utf8);
        if boundary && let Some(level) = heading_level(rest) {
            let title_end = at + rest.find(['。', '\n']).unwrap_or(rest.len());
            out.push(Heading {
                level,
                start: at,
                title_end,
            });
        }
        at += step;
    }
    out
}

fn heading_level(rest: &str) -> Option<u8> {
    let rest = rest.trim_start_matches([' ', '\u{3000}']);
    // An annex ends the work points: a heading of the top level that names nothing.
    if rest.starts_with("附件") {
        return Some(0);
    }
    let mut chars = rest.chars();
    let c0 = chars.next()?;
    if NUMERALS.contains(c0) {
        let c1 = chars.next()?;
        if c1 == '、' {
            return Some(0);
        }
        if c1 == '是' {
            return Some(3);
        }
        return None;
    }
    if matches!(c0, '(' | '（') {
        let c1 = chars.next()?;
        let c2 = chars.next()?;
        if NUMERALS.contains(c1) && matches!(c2, ')' | '）') {
            return Some(1);
        }
        return None;
    }
    if c0.is_ascii_digit() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        let after = rest[digits..].chars().next()?;
        if digits <= 2 && matches!(after, '.' | '、' | '．') {
            let next = rest[digits + after.len_utf8()..].chars().next()?;
            // "1.5亿" is a number, not a heading.
            if !next.is_ascii_digit() {
                return Some(2);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_and_their_levels() {
        let text =
            "二、工作要点\n(一)实施“远航”行动。\n1.建设青山科学城。一是做强平台。投入1.5亿元。";
        let found: Vec<u8> = headings(text).iter().map(|h| h.level).collect();
        assert_eq!(found, vec![0, 1, 2, 3]);
    }

    #[test]
    fn quotes_are_clauses_of_the_text() {
        let text = "1.建设青山科学城。以白石实验室为核心,带动产业。";
        let a = text.find("青山科学城").unwrap();
        let b = text.find("白石实验室").unwrap();
        let quote = quote_two(text, (a, a + 15), (b, b + 15));
        assert_eq!(quote, "1.建设青山科学城[…]以白石实验室为核心");
        assert!(crate::model::quote_occurs_in(&quote, text));
    }
}
