//! New names: organisations and places found by the suffix their kind's names end in (研究院,
//! 实验室, 高新区 …), named programmes (“…”行动, …工程) and policy documents (《…》). A name's left
//! end is where a function word or a verb of the sentence stops it; generic categories (省级重点实验室,
//! 一批新型研发机构, 六大科技城) are not names.

use crate::model::EntityKind;

/// A name found in the text: byte range of its surface, and its kind.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub start: usize,
    pub end: usize,
    pub kind: EntityKind,
    pub rule: &'static str,
    /// A name the text spells only in parts (镜湖 in 镜湖、滨海两大科技城 → 镜湖科技城): the name,
    /// and the byte range of the phrase holding all its parts (its NAME quote).
    pub composed: Option<(String, (usize, usize))>,
}

/// Name endings and the kind they give, longest first where one ends another.
pub const SUFFIXES: &[(&str, EntityKind)] = &[
    ("科学技术局", EntityKind::Government),
    ("科技人才局", EntityKind::Government),
    ("外国专家局", EntityKind::Government),
    ("科技局", EntityKind::Government),
    ("人民政府", EntityKind::Government),
    ("人才办", EntityKind::Government),
    ("管委会", EntityKind::Government),
    ("专家委员会", EntityKind::Alliance),
    ("研究委员会", EntityKind::Alliance),
    ("委员会", EntityKind::Government),
    ("全国重点实验室", EntityKind::Lab),
    ("实验室", EntityKind::Lab),
    ("研究院", EntityKind::ResearchInstitute),
    ("研究所", EntityKind::ResearchInstitute),
    ("研究中心", EntityKind::ResearchInstitute),
    ("创新中心", EntityKind::ResearchInstitute),
    ("科创中心", EntityKind::ResearchInstitute),
    ("验证中心", EntityKind::ResearchInstitute),
    ("分院", EntityKind::ResearchInstitute),
    ("股份有限公司", EntityKind::Enterprise),
    ("有限公司", EntityKind::Enterprise),
    ("集团", EntityKind::Enterprise),
    ("大学", EntityKind::University),
    ("学院", EntityKind::University),
    ("新产业平台", EntityKind::Platform),
    ("高新区", EntityKind::Platform),
    ("开发区", EntityKind::Platform),
    ("科技城", EntityKind::Platform),
    ("科学城", EntityKind::Platform),
    ("创新城", EntityKind::Platform),
    ("智慧城", EntityKind::Platform),
    ("芯城", EntityKind::Platform),
    ("产业园", EntityKind::Platform),
    ("科技园", EntityKind::Platform),
    ("科创园", EntityKind::Platform),
    ("小镇", EntityKind::Platform),
    ("基地", EntityKind::Platform),
    ("综合体", EntityKind::Platform),
    ("走廊", EntityKind::Platform),
    ("孵化器", EntityKind::Platform),
    ("试验区", EntityKind::Platform),
    ("示范区", EntityKind::Platform),
    ("先导区", EntityKind::Platform),
    ("创新区", EntityKind::Platform),
    ("合作区", EntityKind::Platform),
    ("工作站", EntityKind::Platform),
    ("CBD", EntityKind::Platform),
    ("展示馆", EntityKind::Platform),
    ("大科学装置", EntityKind::Facility),
    ("装置", EntityKind::Facility),
    ("光源", EntityKind::Facility),
    ("线站", EntityKind::Facility),
    ("联盟", EntityKind::Alliance),
    ("联合体", EntityKind::Alliance),
    ("计划", EntityKind::Program),
    ("行动", EntityKind::Program),
    ("工程", EntityKind::Program),
    ("专项", EntityKind::Program),
    ("品牌", EntityKind::Program),
    ("特派团", EntityKind::Program),
    ("大赛", EntityKind::Program),
    ("交易会", EntityKind::Program),
    ("推进会", EntityKind::Program),
    ("现场会", EntityKind::Program),
    ("对接会", EntityKind::Program),
    ("展览会", EntityKind::Program),
    ("论坛", EntityKind::Program),
    ("科技日", EntityKind::Program),
];

/// Words that end a name on its left: function words and the verbs and adverbs that introduce a
/// name in a sentence (建设X, 依托X, 支持X …).
const STOPS: &[&str] = &[
    "以",
    "为",
    "与",
    "和",
    "及",
    "或",
    "在",
    "由",
    "向",
    "把",
    "将",
    "从",
    "于",
    "等",
    "的",
    "是",
    "即",
    "对标",
    "对接",
    "建设",
    "推进",
    "推动",
    "打造",
    "支持",
    "依托",
    "加快",
    "深化",
    "做强",
    "做优",
    "做大",
    "提升",
    "布局",
    "整合",
    "组建",
    "引进",
    "落户",
    "争创",
    "创建",
    "完成",
    "实施",
    "实行",
    "启动",
    "建立",
    "成立",
    "设立",
    "举办",
    "承办",
    "开展",
    "入选",
    "获批",
    "新建",
    "培育",
    "构建",
    "积极",
    "高水平",
    "高质量",
    "重点",
    "全力",
    "加强",
    "强化",
    "发挥",
    "聚焦",
    "围绕",
    "共建",
    "合作",
    "签订",
    "发布",
    "编制",
    "出台",
    "制定",
    "制订",
    "修订",
    "印发",
    "贯彻",
    "落实",
    "用好",
    "办好",
    "做好",
    "迭代",
    "争取",
    "力争",
    "谋划",
    "申报",
    "认定",
    "推广",
    "带动",
    "辐射",
    "联动",
    "导入",
    "瞄准",
    "形成",
    "实现",
    "启用",
    "健全",
    "完善",
    "优化",
    "常态化",
    "运营",
    "深入",
    "全面",
    "探索",
    "加大",
    "扎实",
    "持续",
    "鼓励",
    "优先",
    "推荐",
    "组织",
    "参加",
    "参与",
    "包括",
    "其中",
    "位于",
    "坐落",
    "我县",
    "我市",
    "全市",
    "全县",
    "全省",
    "全国性",
    "省级",
    "市级",
    "县级",
    "国家级",
    "各类",
    "一批",
    "首批",
    "加快推进",
    "挂牌",
    "牵头",
    "领衔",
    "试行",
    "配合",
    "服务",
    "依靠",
    "通过",
    "面向",
    "按照",
    "入驻",
    "集聚",
    "引育",
    "抓好",
    "抓",
    "办",
    "成为",
    "列入",
    "纳入",
    "做实",
    "推出",
    "升级",
    "提能",
    "新增",
    "累计",
    "共有",
    "拥有",
    "新认定",
    "评为",
    "获评",
    "获得",
    "获",
    "各",
    "进一步",
    "大力",
    "着力",
    "努力",
    "全年",
    "今年",
    "明年",
    "上半年",
    "下半年",
    "重大",
    "标志性",
    "承接",
    "招引",
    "吸引",
    "举荐",
    "选派",
    "年度",
    "加入",
    "——",
    "建强",
    "建优",
];

/// Words a generic category is made of: a name whose part before its suffix is only these is no name.
const GENERIC: &[&str] = &[
    "国家级",
    "国家",
    "省级",
    "省",
    "市级",
    "市",
    "县级",
    "县",
    "区级",
    "全国",
    "全省",
    "全市",
    "重点",
    "新型",
    "高能级",
    "高端",
    "创新",
    "科技",
    "科创",
    "技术",
    "工程",
    "研发",
    "共建",
    "高校",
    "企业",
    "产业",
    "联合",
    "重大",
    "一流",
    "专业",
    "大型",
    "中试",
    "孵化",
    "众创",
    "校地",
    "区域",
    "龙头",
    "院士",
    "博士后",
    "人才",
    "科研",
    "研究",
    "协同",
    "公共",
    "服务",
    "平台",
    "实体",
    "高新",
    "高新技术",
    "新兴",
    "未来",
    "特色",
    "综合",
    "公益类",
    "基础",
    "应用",
    "合作",
    "开放",
    "示范",
    "试点",
    "成果",
    "转化",
    "转移",
    "相关",
    "有关",
    "其他",
    "农业",
    "工业",
    "制造业",
    "数字",
    "智能",
    "现代",
    "国际",
    "国内",
    "海外",
    "对外",
    "省市",
    "市县",
    "区县",
    "乡村",
    "农村",
    "社会",
    "一体化",
    "产学研",
    "校企",
    "政产学研",
    "工作",
    "建设",
    "发展",
    "提升",
    "提质",
    "改革",
    "体制",
    "机制",
    "自主",
    "新一代",
    "新一轮",
    "领军",
    "标杆",
    "标杆型",
    "标杆性",
    "头部",
    "骨干",
    "优势",
    "各类",
    "概念验证",
    "大学",
    "行业性",
    "行业",
    "专家",
    "外国",
    "培养",
    "产教融合",
    "实习实训",
    "生态",
    "经济",
    "域外",
    "优质",
    "开放式",
    "一线城市",
    "量子",
    "先进",
    "省内",
    "省外",
    "国外",
    "国内外",
];

/// Counting words that make a phrase a category (六大科技城, 十大创新基地, 一批实验室, 2家实验室).
fn is_counted(prefix: &str) -> bool {
    let chars: Vec<char> = prefix.chars().collect();
    let numeral = |c: char| "一二三四五六七八九十两百千万几多若".contains(c) || c.is_ascii_digit();
    if chars.len() >= 2 && numeral(chars[0]) && "大批个家所项类条只".contains(chars[1]) {
        return true;
    }
    let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    digits > 0
        && chars
            .get(digits)
            .is_some_and(|c| "家个项所大批".contains(*c))
}

/// Whether a name is only a category: counted, collective, or generic words and a suffix.
pub fn is_generic(name: &str, suffix: &str) -> bool {
    let Some(rest) = name.strip_suffix(suffix) else {
        return true;
    };
    if is_counted(rest) {
        return true;
    }
    // A counted category at the end of a list (镜湖、东鉴湖六大科技城).
    let chars: Vec<(usize, char)> = rest.char_indices().collect();
    for (i, &(at, c)) in chars.iter().enumerate() {
        // A run of digits counts where it starts (新昌茶叶6家综合体).
        let run = if c.is_ascii_digit() {
            if i > 0 && chars[i - 1].1.is_ascii_digit() {
                continue;
            }
            chars[i..]
                .iter()
                .take_while(|(_, d)| d.is_ascii_digit())
                .count()
        } else {
            1
        };
        if i > 0
            && ("一二三四五六七八九十两几多".contains(c) || c.is_ascii_digit())
            && chars
                .get(i + run)
                .is_some_and(|(_, n)| "大批个家".contains(*n))
            && is_generic(&rest[at..], "")
        {
            return true;
        }
    }
    if [
        "各", "一批", "若干", "多个", "相关", "有关", "其他", "首批", "等",
    ]
    .iter()
    .any(|w| rest.starts_with(w))
    {
        return true;
    }
    // A corps (科技特派团) is one body even when the words before it are generic.
    if SPECIFIC_SUFFIXES.contains(&suffix) {
        return false;
    }
    without_generic_words(rest).is_empty()
}

/// Suffixes that name one body even after generic words (科技特派团: a corps the region sends out),
/// unlike a category (科技计划).
const SPECIFIC_SUFFIXES: &[&str] = &["特派团"];

/// What remains of a name's part before its suffix once generic words are stripped from its left,
/// longest first (科创大 → 大).
pub fn without_generic_words(mut rest: &str) -> &str {
    'outer: while !rest.is_empty() {
        let mut best: Option<&str> = None;
        for w in GENERIC {
            if rest.starts_with(w) && best.is_none_or(|b| w.len() > b.len()) {
                best = Some(w);
            }
        }
        if let Some(w) = best {
            rest = &rest[w.len()..];
            continue 'outer;
        }
        break;
    }
    rest
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '·' | '—' | '-' | '•')
}

fn is_open(c: char) -> bool {
    matches!(c, '(' | '（')
}

fn is_close(c: char) -> bool {
    matches!(c, ')' | '）')
}

/// Whether a stop word ends just before byte `at` of `text`.
pub fn stop_before(text: &str, at: usize) -> bool {
    let before = &text[..at];
    STOPS.iter().any(|w| before.ends_with(w))
}

/// Whether a stop word starts at byte `at` (the name would start with a verb).
fn stop_at(text: &str, at: usize) -> bool {
    let after = &text[at..];
    STOPS
        .iter()
        .any(|w| w.chars().count() >= 2 && after.starts_with(w))
}

/// Whether a phrase starts with a verb or function word (a heading, not a name).
pub fn starts_with_verb(phrase: &str) -> bool {
    stop_at(phrase, 0)
}

/// Where a name ending at byte `end` (its suffix starting at `suffix_start`) begins: the left end
/// reached over name characters, balanced quotes and brackets, before a stop word or punctuation.
pub fn left_end(text: &str, suffix_start: usize, max_chars: usize) -> usize {
    let mut start = suffix_start;
    let mut count = 0;
    while count < max_chars {
        if stop_before(text, start) {
            break;
        }
        // 2024年 ends a name's left side; 年 inside a word (年轻) does not.
        if text[..start].ends_with('年')
            && text[..start - '年'.len_utf8()]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_digit() || "〇一二三四五六七八九十".contains(c))
        {
            break;
        }
        let Some(c) = text[..start].chars().next_back() else {
            break;
        };
        if c == '”' || c == '"' {
            // A quoted part inside the name: take it whole if its opening mark is near.
            let inner_end = start - c.len_utf8();
            let Some(open) = text[..inner_end].rfind(['“', '"']) else {
                break;
            };
            let open_len = text[open..].chars().next().map_or(1, char::len_utf8);
            let inner = &text[open + open_len..inner_end];
            if inner.chars().count() > 24 || inner.contains(['，', ',', '。', '；', ';', '”'])
            {
                break;
            }
            let open_start = open;
            count += inner.chars().count() + 2;
            start = open_start;
            continue;
        }
        if is_close(c) {
            let inner_end = start - c.len_utf8();
            let Some(open) = text[..inner_end].rfind(['(', '（']) else {
                break;
            };
            let inner = &text[open..inner_end];
            if inner.chars().count() > 12 || inner.contains(['，', ',', '。', '、', '；', ';', '|'])
            {
                break;
            }
            count += inner.chars().count() + 1;
            start = open;
            continue;
        }
        if !is_name_char(c) {
            break;
        }
        start -= c.len_utf8();
        count += 1;
    }
    // A name does not start with a verb, a heading's number or a dash.
    let digits = text[start..suffix_start]
        .chars()
        .take_while(char::is_ascii_digit)
        .count();
    if digits > 0 && text[start + digits..].starts_with(['.', '、', '．']) {
        start += digits;
    }
    while start < suffix_start {
        let c = text[start..].chars().next().unwrap_or(' ');
        if matches!(
            c,
            '—' | '-' | '·' | '.' | '+' | '•' | '级' | '上' | '下' | '对' | '有'
        ) || stop_at(text, start)
        {
            start += c.len_utf8();
        } else {
            break;
        }
    }
    start
}

/// A bracketed place right after a name (天津大学浙江研究院(绍兴)): its end, if there is one.
fn bracket_after(text: &str, end: usize) -> Option<usize> {
    let rest = &text[end..];
    let c = rest.chars().next()?;
    if !is_open(c) {
        return None;
    }
    let close = rest.find([')', '）'])?;
    let inner = &rest[c.len_utf8()..close];
    // An organisation's short name in brackets (…装置(某某所)) is not part of the name.
    let organisation = ["所", "局", "办", "委", "司", "校"]
        .iter()
        .any(|s| inner.ends_with(s));
    if inner.is_empty()
        || inner.chars().count() > 10
        || !inner.chars().all(|c| c.is_alphanumeric() || c == '·')
        || inner.chars().any(|c| c.is_ascii_digit())
        || organisation
    {
        return None;
    }
    let close_len = rest[close..].chars().next()?.len_utf8();
    Some(end + close + close_len)
}

/// Every name the suffix rules find in `text`, leftmost-longest per suffix occurrence.
pub fn suffix_names(text: &str) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let found = SUFFIXES.iter().find(|(s, _)| rest.starts_with(s));
        let step = rest.chars().next().map_or(1, char::len_utf8);
        let Some((suffix, kind)) = found else {
            at += step;
            continue;
        };
        let mut end = at + suffix.len();
        let mut kind = kind;
        // A longer suffix continuing here (研究院 in 研究院分院) is taken at its own position.
        let start = left_end(text, at, 24);
        if let Some(after) = bracket_after(text, end) {
            // A bracketed short name (…联合创新中心(某某实验室)) gives the kind.
            let inner = &text[end..after];
            if let Some((_, k)) = SUFFIXES
                .iter()
                .find(|(s, _)| inner.trim_end_matches([')', '）']).ends_with(s))
            {
                kind = k;
            }
            end = after;
        }
        let name = &text[start..end];
        let core = &text[start..at + suffix.len()];
        let programme = kind.layer() == crate::model::Layer::Policy;
        let ok = start < at
            && !is_generic(core, suffix)
            && !(programme && !name.contains(['“', '"']) && core.chars().count() < 5);
        if ok {
            out.push(Candidate {
                start,
                end,
                kind: *kind,
                rule: "suffix",
                composed: None,
            });
        }
        at += suffix.len();
    }
    out
}

/// Kinds whose names a list may share: organisations and places, not programmes.
fn shares_suffix(kind: EntityKind) -> bool {
    !matches!(
        kind,
        EntityKind::Program
            | EntityKind::Policy
            | EntityKind::University
            | EntityKind::Enterprise
            | EntityKind::Government
    )
}

/// Whether `s` is a counter: a numeral and 大/家/个 (两大, 6家, 十个).
fn counter_len(before: &str) -> Option<usize> {
    let mut chars = before.char_indices().rev();
    let (_, unit) = chars.next()?;
    if !"大家个".contains(unit) {
        return None;
    }
    let mut start = None;
    for (i, c) in chars {
        if "一二两三四五六七八九十".contains(c) || c.is_ascii_digit() {
            start = Some(i);
        } else {
            break;
        }
    }
    start.map(|i| before.len() - i)
}

/// Whether `before` ends with 等 closing a list that shares the suffix after it (东湖、西山等实验室:
/// 东湖实验室 and 西山实验室); its length.
fn etc_len(before: &str) -> Option<usize> {
    before.ends_with('等').then_some('等'.len_utf8())
}

/// The short names of a list (A、B、C), each a byte range of `text`; `None` unless every item is a
/// short name (2–6 name characters) and there are at least two.
fn list_items(text: &str, start: usize, end: usize) -> Option<Vec<(usize, usize)>> {
    let mut items = Vec::new();
    let mut from = start;
    for part in text[start..end].split('、') {
        let n = part.chars().count();
        if !(2..=6).contains(&n) || !part.chars().all(|c| c.is_alphanumeric()) {
            return None;
        }
        items.push((from, from + part.len()));
        from += part.len() + '、'.len_utf8();
    }
    (items.len() >= 2).then_some(items)
}

/// Names a list shares one suffix in: 镜湖、滨海两大科技城 (the list, a counter or 等, the suffix) and
/// 2家高新区(新昌、上虞) (a counter, the suffix, the list in brackets) give 镜湖科技城, 滨海科技城 and
/// 新昌高新区, 上虞高新区; an item that is a name by itself (智汇芯城) stays one.
pub fn shared_suffix_names(text: &str) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let step = rest.chars().next().map_or(1, char::len_utf8);
        let Some((suffix, kind)) = SUFFIXES.iter().find(|(s, _)| rest.starts_with(s)) else {
            at += step;
            continue;
        };
        let suffix_end = at + suffix.len();
        let Some(counter) = counter_len(&text[..at])
            .or_else(|| etc_len(&text[..at]))
            .filter(|_| shares_suffix(*kind))
        else {
            at = suffix_end;
            continue;
        };
        let counter_start = at - counter;
        // Each list with the phrase quoted for its names (from the item to the suffix if none).
        type Range = (usize, usize);
        let mut lists: Vec<(Vec<Range>, Option<Range>)> = Vec::new();
        // The list before the counter: back over 、-joined name characters to a stop.
        let list_start = {
            let mut s = counter_start;
            while let Some(c) = text[..s].chars().next_back() {
                if !(c.is_alphanumeric() || c == '、') || stop_before(text, s) {
                    break;
                }
                s -= c.len_utf8();
            }
            s
        };
        if list_start < counter_start
            && let Some(items) = list_items(text, list_start, counter_start)
        {
            lists.push((items, None));
        }
        // The list in brackets after the suffix.
        if let Some(open) = text[suffix_end..].chars().next().filter(|c| is_open(*c)) {
            let inner = suffix_end + open.len_utf8();
            if let Some(close) = text[inner..].find([')', '）']) {
                let close_end = inner
                    + close
                    + text[inner + close..]
                        .chars()
                        .next()
                        .map_or(1, char::len_utf8);
                if let Some(items) = list_items(text, inner, inner + close) {
                    lists.push((items, Some((counter_start, close_end))));
                }
            }
        }
        for (items, quote) in lists {
            for (start, end) in items {
                let item = &text[start..end];
                if SUFFIXES.iter().any(|(s, _)| item.ends_with(s)) || item.ends_with('城') {
                    continue;
                }
                let name = format!("{item}{suffix}");
                if is_generic(&name, suffix) {
                    continue;
                }
                out.push(Candidate {
                    start,
                    end,
                    kind: *kind,
                    rule: "list-shares-suffix",
                    composed: Some((name, quote.unwrap_or((start, suffix_end)))),
                });
            }
        }
        at = suffix_end;
    }
    out
}

/// A numbered heading that is a programme's name (1.实施创新平台提能工程。 / 1.主线——X提能升级工程。
/// / 一是实施X行动): the whole rest after the number, a label and a leading 实施/启动/开展, when
/// it ends in a programme word, even where words inside would stop a name found by its suffix.
pub fn heading_programmes(text: &str) -> Vec<Candidate> {
    const ENDINGS: &[&str] = &["工程", "行动", "计划", "专项"];
    const VERBS: &[&str] = &["深入实施", "启动实施", "实施", "启动", "开展"];
    let mut out = Vec::new();
    for h in super::text::headings(text) {
        let title = &text[h.start..h.title_end];
        // Past the number: up to the first 、 . ． ) or 是 of the heading mark.
        let Some(mark) = title
            .char_indices()
            .find(|(_, c)| matches!(c, '、' | '.' | '．' | ')' | '）' | '是'))
            .map(|(i, c)| i + c.len_utf8())
        else {
            continue;
        };
        let mut from = h.start + mark;
        if let Some(dash) = text[from..h.title_end].find("——") {
            from += dash + "——".len();
        }
        let verb = VERBS
            .iter()
            .find(|v| text[from..h.title_end].starts_with(*v));
        let labelled = from > h.start + mark;
        let Some(verb) = verb.map(|v| v.len()).or(labelled.then_some(0)) else {
            continue;
        };
        from += verb;
        let name = text[from..h.title_end].trim_end_matches(['。', ' ']);
        let end = from + name.len();
        let n = name.chars().count();
        if (4..=16).contains(&n)
            && ENDINGS.iter().any(|e| name.ends_with(e))
            && !name.contains(['，', ',', '、', ':', '：', '(', '（', '；'])
            && !is_generic(
                name,
                ENDINGS.iter().find(|e| name.ends_with(*e)).unwrap_or(&""),
            )
            && !is_counted(name)
        {
            out.push(Candidate {
                start: from,
                end,
                kind: EntityKind::Program,
                rule: "heading-programme",
                composed: None,
            });
        }
    }
    out
}

/// A quoted term with a short tail naming what kind of programme it is (实施“双尖双领”项目, 推进人才
/// “同城同享”改革, 深化“揭榜挂帅”制度): the programme, with up to four qualifying characters before
/// the quotes (人才). The tail must be the kind alone: 等合作模式, 的模式, 新机制 are categories.
pub fn quoted_term_programmes(text: &str) -> Vec<Candidate> {
    const TAILS: &[&str] = &["项目", "改革", "模式", "体系", "制度", "载体"];
    const NOT_IN_TAIL: &[&str] = &[
        "等",
        "的",
        "新",
        "级",
        "工作",
        "相结合",
        "合作",
        "长效",
        "计划",
        "行动",
        "工程",
    ];
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(close) = text[from..].find('”') {
        let close = from + close;
        from = close + '”'.len_utf8();
        let tail: String = text[from..]
            .chars()
            .take_while(|c| c.is_alphanumeric())
            .take(8)
            .collect();
        let Some(ending) = TAILS.iter().find(|t| {
            tail.ends_with(*t) || {
                let n = tail.find(*t);
                n.is_some_and(|n| n + t.len() <= tail.len() && tail[..n + t.len()].ends_with(*t))
            }
        }) else {
            continue;
        };
        let tail_len = tail.find(ending).map_or(0, |i| i + ending.len());
        let tail = &tail[..tail_len];
        if NOT_IN_TAIL.iter().any(|w| tail.contains(w)) || starts_with_verb(tail) {
            continue;
        }
        let Some(open) = text[..close].rfind('“') else {
            continue;
        };
        let inner = &text[open + '“'.len_utf8()..close];
        // A quoted organisation or facility (“某某装置”项目) is a project about it, not a
        // programme; chained quotes (“甲”“乙”项目) name several things.
        let organisation = inner.ends_with("中心")
            || SUFFIXES
                .iter()
                .any(|(s, k)| k.layer() == crate::model::Layer::Ecosystem && inner.ends_with(s));
        if !(2..=16).contains(&inner.chars().count())
            || inner.contains(['，', ',', '。', '”', '、'])
            || organisation
            || text[..open].ends_with('”')
        {
            continue;
        }
        // Up to six qualifying characters before the quotes, back to a stop word; a field
        // (科技领域“…”改革) is no qualifier.
        let mut start = open;
        for _ in 0..6 {
            if stop_before(text, start) {
                break;
            }
            match text[..start].chars().next_back() {
                Some(c) if c.is_alphanumeric() => start -= c.len_utf8(),
                _ => break,
            }
        }
        let bounded = stop_before(text, start)
            || text[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric());
        if start < open && (!bounded || text[..open].ends_with("领域")) {
            start = open;
        }
        out.push(Candidate {
            start,
            end: from + tail.len(),
            kind: EntityKind::Program,
            rule: "quoted-term-programme",
            composed: None,
        });
    }
    out
}

/// What a report carries out (实施企业家素质提升工程, 实施“某某”专项培育行动): after 实施 or 启动实施,
/// the longest run of the clause, up to a list mark or the next quoted name, that ends in a
/// programme word, even where words inside would stop a name found by its suffix (提升, 培育,
/// 建设). Not a verb or a category, no figures outside quotes.
pub fn carried_out_programmes(text: &str) -> Vec<Candidate> {
    const ENDINGS: &[&str] = &["工程", "行动", "计划", "专项"];
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("实施") {
        let start = from + i + "实施".len();
        from = start;
        let mut end = start;
        let mut quotes = 0;
        for (j, c) in text[start..].char_indices() {
            if matches!(
                c,
                '、' | '，'
                    | ','
                    | '。'
                    | '；'
                    | ';'
                    | '('
                    | '（'
                    | '等'
                    | '\n'
                    | '|'
                    | '《'
                    | '》'
            ) {
                break;
            }
            if c == '“' {
                quotes += 1;
                if quotes > 1 {
                    break;
                }
            }
            end = start + j + c.len_utf8();
            if end - start > 60 {
                break;
            }
        }
        let run = &text[start..end];
        let Some(name_end) = run
            .char_indices()
            .map(|(j, c)| j + c.len_utf8())
            .rfind(|&j| ENDINGS.iter().any(|e| run[..j].ends_with(e)))
        else {
            continue;
        };
        let mut name = &run[..name_end];
        // A closing quote right after belongs to the name (“某某行动”).
        let mut stop = start + name_end;
        if name.starts_with('“') && text[stop..].starts_with('”') {
            stop += '”'.len_utf8();
            name = &text[start..stop];
        }
        let suffix = ENDINGS
            .iter()
            .find(|e| name.ends_with(*e))
            .copied()
            .unwrap_or("");
        let unquoted: String = {
            let mut inside = false;
            name.chars()
                .filter(|&c| {
                    if c == '“' || c == '”' {
                        inside = c == '“';
                        return false;
                    }
                    !inside
                })
                .collect()
        };
        let n = name.chars().count();
        // A name wholly in quotes is the quoted term's (quoted_programmes).
        let wholly_quoted = name.starts_with('“') && name.ends_with('”');
        if !(4..=20).contains(&n)
            || wholly_quoted
            || name.contains(['和', '及', '各'])
            || starts_with_verb(name)
            || name.starts_with(['对', '为', '与', '以', '了'])
            || unquoted.chars().any(|c| c.is_ascii_digit())
            || is_generic(name, suffix)
            || is_counted(name)
        {
            continue;
        }
        out.push(Candidate {
            start,
            end: start + name.len(),
            kind: EntityKind::Program,
            rule: "carried-out-programme",
            composed: None,
        });
    }
    out
}

/// A policy package by its version (出台人才新政3.0, 迭代科技新政2.0): a name ending in 新政 and
/// a version number, from the left end a name reaches; the package is a policy.
pub fn versioned_policies(text: &str) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("新政") {
        let at = from + i;
        from = at + "新政".len();
        let after = &text[from..];
        let digits = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        if digits == 0 || !after[digits..].starts_with('.') {
            continue;
        }
        let minor = &after[digits + 1..];
        let minor_len = minor
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(minor.len());
        if minor_len == 0 {
            continue;
        }
        let start = left_end(text, at, 8);
        if text[start..at].chars().count() < 2 {
            continue;
        }
        out.push(Candidate {
            start,
            end: from + digits + 1 + minor_len,
            kind: EntityKind::Policy,
            rule: "versioned-policy",
            composed: None,
        });
    }
    out
}

/// 《…》 titles: policy documents.
pub fn policy_titles(text: &str) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('《') {
        let open = from + open;
        let inner_start = open + '《'.len_utf8();
        let Some(close) = text[inner_start..].find('》') else {
            break;
        };
        let inner_end = inner_start + close;
        let inner = &text[inner_start..inner_end];
        if inner.chars().count() >= 6 && !inner.contains(['《', '\n']) {
            out.push(Candidate {
                start: inner_start,
                end: inner_end,
                kind: EntityKind::Policy,
                rule: "title-in-book-marks",
                composed: None,
            });
        }
        from = inner_end;
    }
    out
}

/// A quoted term that is itself a programme's name (“雄鹰行动”, “揭榜挂帅”, “包干制”), or a
/// quoted term a programme word follows (“平台造峰”行动): the programme.
pub fn quoted_programmes(text: &str) -> Vec<Candidate> {
    const ENDINGS: &[&str] = &[
        "行动",
        "计划",
        "工程",
        "专项",
        "制",
        "改革",
        "科技日",
        "大赛",
    ];
    let first_heading = super::text::headings(text)
        .first()
        .map_or(text.len(), |h| h.start);
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('“') {
        let open = from + open;
        let inner_start = open + '“'.len_utf8();
        let Some(close) = text[inner_start..].find('”') else {
            break;
        };
        let inner_end = inner_start + close;
        let inner = &text[inner_start..inner_end];
        from = inner_end;
        let n = inner.chars().count();
        if !(2..=16).contains(&n) || inner.contains(['，', ',', '。', '\n', '“']) {
            continue;
        }
        // The quoted term followed by a programme word is found by the suffix rule.
        let after = &text[inner_end + '”'.len_utf8()..];
        if SUFFIXES
            .iter()
            .any(|(s, k)| *k == EntityKind::Program && after.starts_with(s))
        {
            continue;
        }
        // A counted name in quotes that the opening paragraph carries out (谋划实施“六大工程”) is the
        // umbrella of the report's numbered programmes; its quotes are part of its name.
        let umbrella = open < first_heading && text[..open].ends_with("实施") && is_counted(inner);
        if ENDINGS.iter().any(|e| inner.ends_with(e)) && (umbrella || !is_generic(inner, "")) {
            let (start, end) = if umbrella {
                (open, inner_end + '”'.len_utf8())
            } else {
                (inner_start, inner_end)
            };
            out.push(Candidate {
                start,
                end,
                kind: EntityKind::Program,
                rule: "quoted-programme",
                composed: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(&str, EntityKind)> {
        let mut found: Vec<Candidate> = suffix_names(text);
        found.extend(policy_titles(text));
        found.extend(quoted_programmes(text));
        found.sort_by_key(|c| c.start);
        let all = found.clone();
        found.retain(|c| {
            !all.iter()
                .any(|o| o != c && o.start <= c.start && c.end <= o.end)
        });
        found
            .iter()
            .map(|c| (&text[c.start..c.end], c.kind))
            .collect()
    }

    #[test]
    fn suffixes_give_names_stopped_by_verbs() {
        assert_eq!(
            names("加快建设青山科学城,支持北方大学青山研究院建设。"),
            vec![
                ("青山科学城", EntityKind::Platform),
                ("北方大学青山研究院", EntityKind::ResearchInstitute),
            ]
        );
        assert_eq!(
            names("依托南岭有限公司组建白石创新联合体"),
            vec![
                ("南岭有限公司", EntityKind::Enterprise),
                ("白石创新联合体", EntityKind::Alliance),
            ]
        );
    }

    #[test]
    fn generic_categories_are_no_names() {
        assert!(names("争创省级重点实验室2家、全国重点实验室1家").is_empty());
        assert!(names("布局六大科技城和一批新型研发机构、十大创新基地").is_empty());
        assert!(is_generic("省级创新联合体", "联合体"));
        assert!(!is_generic("白石创新联合体", "联合体"));
    }

    #[test]
    fn a_bracketed_place_belongs_to_the_name() {
        assert_eq!(
            names("落户东方大学江南研究院(青田)。"),
            vec![("东方大学江南研究院(青田)", EntityKind::ResearchInstitute)]
        );
    }

    fn composed(text: &str) -> Vec<(String, &str)> {
        shared_suffix_names(text)
            .into_iter()
            .map(|c| {
                let (name, (a, b)) = c.composed.unwrap();
                (name, &text[a..b])
            })
            .collect()
    }

    #[test]
    fn a_list_shares_its_suffix() {
        assert_eq!(
            composed("加快建设青山、云岭港城、白石三大科技城,推进产业集聚。"),
            vec![
                ("青山科技城".to_owned(), "青山、云岭港城、白石三大科技城"),
                ("白石科技城".to_owned(), "白石三大科技城"),
            ]
        );
        assert_eq!(
            composed("3家高新区(青山、白石、红岩)进入前列"),
            vec![
                ("青山高新区".to_owned(), "3家高新区(青山、白石、红岩)"),
                ("白石高新区".to_owned(), "3家高新区(青山、白石、红岩)"),
                ("红岩高新区".to_owned(), "3家高新区(青山、白石、红岩)"),
            ]
        );
        // No counter, programmes, or one item only: no shared names.
        assert!(composed("青山、白石科技城").is_empty());
        assert!(composed("实施青山、白石两大行动").is_empty());
        assert!(composed("建设六大科技城").is_empty());
        assert!(is_generic("青山茶叶6家综合体", "综合体"));
    }

    #[test]
    fn a_versioned_package_is_a_policy() {
        assert_eq!(
            names_with(versioned_policies, "年内出台人才新政3.0,兑现资金2亿元。"),
            vec![("人才新政3.0", EntityKind::Policy)]
        );
        // No version, a version without a minor number, or no name before 新政: none.
        assert!(names_with(versioned_policies, "落实人才新政,兑现资金").is_empty());
        assert!(names_with(versioned_policies, "落实人才新政3条").is_empty());
        assert!(names_with(versioned_policies, "出台新政2.0").is_empty());
    }

    fn names_with(rule: fn(&str) -> Vec<Candidate>, text: &str) -> Vec<(&str, EntityKind)> {
        rule(text)
            .iter()
            .map(|c| (&text[c.start..c.end], c.kind))
            .collect()
    }

    #[test]
    fn a_commissioner_corps_is_a_programme() {
        assert_eq!(
            names("组建农业科技特派团服务山区县。"),
            vec![("农业科技特派团", EntityKind::Program)]
        );
        // A counted or generic phrase (各特派团), or the bare word: none.
        assert!(names("推动各特派团下乡").is_empty());
        assert!(names("组建特派团").is_empty());
    }

    #[test]
    fn a_list_closed_by_etc_shares_its_suffix() {
        assert_eq!(
            composed("鼓励松岭、北潭等实验室承担攻关任务"),
            vec![
                ("松岭实验室".to_owned(), "松岭、北潭等实验室"),
                ("北潭实验室".to_owned(), "北潭等实验室"),
            ]
        );
        // One item, or a programme word: no shared names.
        assert!(composed("鼓励松岭等实验室承担任务").is_empty());
        assert!(composed("推进松岭、北潭等行动").is_empty());
    }

    #[test]
    fn titles_and_quoted_programmes() {
        assert_eq!(
            names("出台《青山市促进科技企业发展的若干意见》,实施“远航行动”和“星火”工程"),
            vec![
                ("青山市促进科技企业发展的若干意见", EntityKind::Policy),
                ("远航行动", EntityKind::Program),
                ("“星火”工程", EntityKind::Program),
            ]
        );
    }

    #[test]
    fn a_quoted_term_with_its_kind_is_a_programme() {
        let found = |text: &'static str| -> Vec<&'static str> {
            quoted_term_programmes(text)
                .into_iter()
                .map(|c| &text[c.start..c.end])
                .collect()
        };
        assert_eq!(found("实施“青苗护航”项目20项"), vec!["“青苗护航”项目"]);
        assert_eq!(
            found("推进人才“同岸共享”改革。"),
            vec!["人才“同岸共享”改革"]
        );
        assert_eq!(
            found("| 科研经费“负面清单”改革 |"),
            vec!["科研经费“负面清单”改革"]
        );
        // A field is no qualifier.
        assert_eq!(found("深化教育领域“放管服”改革"), vec!["“放管服”改革"]);
        // Categories, projects about a facility, and chained quotes are no programmes.
        assert!(found("探索“研发+转化”等新模式").is_empty());
        assert!(found("形成“一年一评”的模式").is_empty());
        assert!(found("建设“东湖光源装置”项目").is_empty());
        assert!(found("争取“远航”“星火”项目").is_empty());
        assert!(found("入选“微改革”省级项目库").is_empty());
    }

    #[test]
    fn what_a_report_carries_out_is_named_from_the_verb() {
        let found = |text: &'static str| -> Vec<&'static str> {
            carried_out_programmes(text)
                .into_iter()
                .map(|c| &text[c.start..c.end])
                .collect()
        };
        assert_eq!(
            found("实施青年人才素质提升工程,培育队伍。"),
            vec!["青年人才素质提升工程"]
        );
        assert_eq!(
            found("实施“白石工匠”专项培育行动、“金领”培养工程"),
            vec!["“白石工匠”专项培育行动"]
        );
        // Categories, figures, lists of kinds, titles and whole quoted names are left to others.
        assert!(found("实施标志性工程10项").is_empty());
        assert!(found("实施对园区授信100亿元新三年计划").is_empty());
        assert!(found("实施国家和省级各类人才计划").is_empty());
        assert!(found("实施《青山市三年行动计划》").is_empty());
        assert!(found("实施“远航计划”").is_empty());
    }
}
