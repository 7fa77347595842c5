//! `.fbp` texts built from the grammar's pieces: declarations, chains,
//! anonymous nodes, IIPs of every kind, metadata, indexes, exports,
//! annotations, comments, commas and default-port changes; mostly valid, some
//! slightly broken.

use super::rng::Rng;

const NODES: [&str; 14] = [
    "a", "b", "c", "Foo", "node_1", "x-y", "_n", "true", "null", "IN", "OUT", "INPORT", "Read",
    "d2",
];
const PORTS: [&str; 9] = ["IN", "OUT", "in", "Data", "out.x", "p_1", "A", "ERROR", "x"];
const COMPONENTS: [&str; 8] = [
    "core/Repeat",
    "Foo",
    "a/b-c/d",
    "x--y",
    "X_1",
    "/lead",
    "Bar-2",
    "core/Output",
];
const META: [&str; 13] = [
    "x=1",
    "y=20",
    "x=1e5",
    "y=abc",
    "r",
    "k=v",
    "a=b=c",
    "",
    "x=",
    "=v",
    "routes=q",
    "x=99999999999999999999",
    "y=007",
];
const STRINGS: [&str; 8] = [
    "'hi'",
    "'a\\'b'",
    "'x\\ny'",
    "''",
    "'multi\nline'",
    "'# -> ,'",
    "'é 😀'",
    "'\\\\'",
];
const TERMINATORS: [&str; 9] = [
    "\n", "\n", "\n", ", ", ",\n", " # c\n", "\r\n", " ", "\u{2028}",
];
const BREAKERS: [&str; 12] = ["", "x", " ", "(", ")", "'", "->", ",", "#", "\n", "[", "\t"];

/// Spaces, or now and then a tab (which only JSON IIPs may follow).
fn spaces(rng: &mut Rng) -> &'static str {
    if rng.chance(0.03) {
        return "\t";
    }
    rng.pick::<&str>(&["", " ", " ", " ", "  "])
}

fn port(rng: &mut Rng) -> String {
    let mut port = rng.pick(&PORTS).to_string();
    if rng.chance(0.25) {
        port.push_str(&format!(
            "[{}]",
            rng.pick(&[0, 1, 7, 12, 4_294_967_295_u32])
        ));
    }
    port
}

fn component(rng: &mut Rng) -> String {
    let name = if rng.chance(0.03) {
        ""
    } else {
        rng.pick(&COMPONENTS)
    };
    if !rng.chance(0.3) {
        return format!("({name})");
    }
    let items: Vec<&str> = (0..1 + rng.below(3)).map(|_| *rng.pick(&META)).collect();
    format!("({name}:{})", items.join(","))
}

fn node(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=5 => format!("{}{}", rng.pick(&NODES), component(rng)),
        6..=8 => rng.pick(&NODES).to_string(),
        _ => component(rng),
    }
}

/// JSON text for an IIP, with random whitespace.
fn json_text(rng: &mut Rng, depth: usize) -> String {
    let ws = |rng: &mut Rng| *rng.pick(&["", "", " ", "\n", "\t "]);
    match rng.below(if depth > 2 { 5 } else { 7 }) {
        0 => rng
            .pick(&[
                "5",
                "-1.5e3",
                "0",
                "1.0",
                "-0",
                "1e400",
                "12345678901234567890",
                "0.1",
                "2E-3",
            ])
            .to_string(),
        1 => rng
            .pick(&[
                "\"s\"",
                "\"q\\\"\"",
                "\"\\u00e9\\ud83d\\ude00\"",
                "\"\"",
                "\"a\\nb\"",
            ])
            .to_string(),
        2 => rng.pick(&["true", "false", "null"]).to_string(),
        3 if rng.chance(0.2) => rng.pick(&["[1,]", "{\"a\"}", "01"]).to_string(),
        3 => rng.pick(&["[]", "{}"]).to_string(),
        4 => format!("\"{}\"", rng.word("abc", "abc ", 4)),
        5 => {
            let items: Vec<String> = (0..rng.below(3))
                .map(|_| json_text(rng, depth + 1))
                .collect();
            format!(
                "[{}{}{}]",
                ws(rng),
                items.join(&format!("{},{}", ws(rng), ws(rng))),
                ws(rng)
            )
        }
        _ => {
            let items: Vec<String> = (0..rng.below(3))
                .map(|i| {
                    format!(
                        "\"k{i}\"{}:{}{}",
                        ws(rng),
                        ws(rng),
                        json_text(rng, depth + 1)
                    )
                })
                .collect();
            format!("{{{}}}", items.join(","))
        }
    }
}

fn iip(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 if rng.chance(0.1) => rng.pick(&["'\\'", "'"]).to_string(),
        0 => rng.pick(&STRINGS).to_string(),
        1 => format!("{}{}", rng.pick(&["", "", "\t", "\n"]), json_text(rng, 0)),
        _ => json_text(rng, 0),
    }
}

fn element(rng: &mut Rng, first: bool, last: bool) -> String {
    if first && rng.chance(0.3) {
        return iip(rng);
    }
    let mut text = String::new();
    if !first && rng.chance(0.7) {
        text.push_str(&format!("{} ", port(rng)));
    }
    text.push_str(&node(rng));
    if !last && rng.chance(0.6) {
        text.push_str(&format!(" {}", port(rng)));
    }
    text
}

fn statement(rng: &mut Rng) -> String {
    match rng.below(100) {
        0..=54 => {
            let n = 1 + rng.below(4);
            let arrow = format!("{}->{}", spaces(rng), spaces(rng));
            (0..n)
                .map(|i| element(rng, i == 0, i == n - 1))
                .collect::<Vec<_>>()
                .join(&arrow)
        }
        55..=64 => {
            let keyword = rng.pick(&["INPORT", "OUTPORT"]);
            format!(
                "{keyword}={}.{}:{}",
                node(rng),
                rng.pick(&PORTS),
                rng.pick(&PORTS)
            )
        }
        65..=68 => format!(
            "{}={}",
            rng.pick(&["DEFAULT_INPORT", "DEFAULT_OUTPORT"]),
            rng.pick(&PORTS)
        ),
        69..=76 => {
            let key = rng.pick(&["runtime", "name", "description", "x-y", "icon"]);
            let value = rng.pick(&["msgflo", "Foo bar ", "a.b", "x", "bad!"]);
            format!(
                "{}# @{key}{}{value}",
                rng.pick(&["", "", "  "]),
                rng.pick(&[" ", " ", "  "])
            )
        }
        77..=81 => rng
            .pick(&["# comment", "#", "# -> x", "  # @ not"])
            .to_string(),
        82 => "EXPORT=a.IN:X".into(),
        83..=85 => String::new(),
        _ => node(rng),
    }
}

/// A `.fbp` text of a few statements, often after declaring every node name
/// it may use; one in eight has a character changed.
pub fn fbp_text(rng: &mut Rng) -> String {
    let mut text = String::new();
    if rng.chance(0.85) {
        for name in NODES {
            text.push_str(&format!("{name}({})\n", rng.pick(&COMPONENTS)));
        }
    }
    for _ in 0..1 + rng.below(6) {
        text.push_str(spaces(rng));
        text.push_str(&statement(rng));
        text.push_str(rng.pick::<&str>(&TERMINATORS));
    }
    if rng.chance(0.3) {
        text = text.trim_end_matches('\n').to_string();
    }
    if rng.chance(0.125) && !text.is_empty() {
        let chars: Vec<char> = text.chars().collect();
        let at = rng.below(chars.len());
        let replacement = rng.pick(&BREAKERS);
        text = chars[..at].iter().collect::<String>()
            + replacement
            + &chars[at + 1..].iter().collect::<String>();
    }
    text
}
