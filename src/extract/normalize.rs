//! Text normalisation for matching: full-width ASCII forms and the ideographic space folded to their
//! half-width forms, Latin letters lower-cased, one character for one character so that a position in
//! the folded text is the same character position in the original.

/// One character folded for matching.
pub fn fold(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0)
            .unwrap_or(c)
            .to_ascii_lowercase(),
        '【' => '[',
        '】' => ']',
        '“' | '”' | '「' | '」' => '"',
        '‘' | '’' => '\'',
        _ => c
            .to_lowercase()
            .next()
            .filter(|_| c.is_ascii())
            .unwrap_or(c),
    }
}

/// A text folded character by character, with the byte offset in the original of every character.
pub struct Folded {
    pub text: String,
    /// `starts[i]`: byte offset in the original of the i-th character; one extra entry for the end.
    starts: Vec<usize>,
    /// Byte offset in `text` of each character, same indexing.
    folded_starts: Vec<usize>,
}

impl Folded {
    pub fn new(original: &str) -> Folded {
        let mut text = String::with_capacity(original.len());
        let mut starts = Vec::with_capacity(original.len() / 2);
        let mut folded_starts = Vec::with_capacity(original.len() / 2);
        for (at, c) in original.char_indices() {
            starts.push(at);
            folded_starts.push(text.len());
            text.push(fold(c));
        }
        starts.push(original.len());
        folded_starts.push(text.len());
        Folded {
            text,
            starts,
            folded_starts,
        }
    }

    /// The original byte offset of a byte offset of the folded text (a character boundary).
    pub fn original(&self, folded_at: usize) -> usize {
        match self.folded_starts.binary_search(&folded_at) {
            Ok(i) => self.starts[i],
            Err(i) => self.starts[i.min(self.starts.len() - 1)],
        }
    }
}

/// How `search` compares names: full-width forms folded, Traditional characters converted to
/// Simplified (zhconv, built from OpenCC's and MediaWiki's conversion tables), Latin letters
/// lower-cased, whitespace dropped. Applied to the names and the query alike.
pub fn search_key(text: &str) -> String {
    let folded: String = text
        .chars()
        .map(fold)
        .filter(|c| !c.is_whitespace())
        .collect();
    let simplified = if folded.is_ascii() {
        folded
    } else {
        zhconv::zhconv(&folded, zhconv::Variant::ZhHans)
    };
    simplified.to_lowercase()
}

/// A name folded for comparison.
pub fn key(name: &str) -> String {
    name.trim().chars().map(fold).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_forms_fold_and_positions_map_back() {
        let original = "天津大学浙江研究院（绍兴）ＡＢ";
        let folded = Folded::new(original);
        assert_eq!(folded.text, "天津大学浙江研究院(绍兴)ab");
        let at = folded.text.find("(绍兴)").unwrap();
        assert_eq!(&original[folded.original(at)..], "（绍兴）ＡＢ");
        assert_eq!(key("Ｘｉｄｉａｎ　University"), "xidian university");
    }
}
