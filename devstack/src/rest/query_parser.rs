//! Parsers for PostgREST's query-string grammar: `select`, filters, `order`, `or`/`and` logic
//! trees, `columns`/`on_conflict`. Errors carry PostgREST's PGRST100 message shape:
//! `"failed to parse filter (eqx.1)" (line 1, column 1)`.

use super::ast::{
    Aggregate, AggregateFunction, CompareOp, Embed, Field, Filter, FtsOp, IsValue, JsonKey,
    JsonStep, LogicTree, Operation, OrderTerm, Quantifier, SelectItem,
};

/// A query-string parameter PostgREST could not parse (PGRST100).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub details: String,
}

/// How deep `select` embeds and logic trees may nest: far beyond real use, and low enough
/// that a hostile query string cannot exhaust the stack of the recursive parsers.
const MAX_NESTING: usize = 32;

/// Characters that end an unquoted name.
const NAME_STOPS: &[char] = &['.', ',', ':', '(', ')', '"', '!'];

struct Cursor<'a> {
    chars: Vec<char>,
    pos: usize,
    /// Current nesting of parentheses the recursive parsers are inside.
    nesting: usize,
    /// What is being parsed, for the error message (`filter`, `select parameter`, ...).
    what: &'a str,
    input: &'a str,
}

impl<'a> Cursor<'a> {
    fn new(what: &'a str, input: &'a str) -> Self {
        Self {
            chars: input.chars().collect(),
            pos: 0,
            nesting: 0,
            what,
            input,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn rest_starts_with(&self, s: &str) -> bool {
        let mut rest = self.chars[self.pos.min(self.chars.len())..].iter();
        s.chars().all(|c| rest.next() == Some(&c))
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.rest_starts_with(s) {
            self.pos += s.chars().count();
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn error(&self, expecting: &str) -> SyntaxError {
        let unexpected = match self.peek() {
            Some(c) => format!("unexpected \"{c}\""),
            None => "unexpected end of input".to_owned(),
        };
        SyntaxError {
            message: format!(
                "\"failed to parse {} ({})\" (line 1, column {})",
                self.what,
                self.input,
                self.pos + 1
            ),
            details: format!("{unexpected} expecting {expecting}"),
        }
    }

    /// Enters one level of nesting, refusing to go deeper than [`MAX_NESTING`].
    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(self.error(&format!("at most {MAX_NESTING} levels of nesting")));
        }
        Ok(())
    }

    fn expect(&mut self, s: &str) -> Result<(), SyntaxError> {
        if self.eat(s) {
            Ok(())
        } else {
            Err(self.error(&format!("\"{s}\"")))
        }
    }

    fn expect_end(&self) -> Result<(), SyntaxError> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.error("end of input"))
        }
    }

    /// `"quoted"` (backslash escapes the next character).
    fn quoted(&mut self) -> Result<String, SyntaxError> {
        self.expect("\"")?;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error("\"\\\"\"")),
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') if self.chars.get(self.pos + 1).is_some() => {
                    out.push(self.chars[self.pos + 1]);
                    self.pos += 2;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// A column/relation name: quoted, or up to a reserved character or `->`.
    fn name(&mut self) -> Result<String, SyntaxError> {
        self.skip_spaces();
        if self.peek() == Some('"') {
            let name = self.quoted()?;
            self.skip_spaces();
            return Ok(name);
        }
        let start = self.pos;
        while let Some(c) = self.peek() {
            if NAME_STOPS.contains(&c) || self.rest_starts_with("->") {
                break;
            }
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(self.error("field name (* or [a..z0..9_$])"));
        }
        Ok(name)
    }

    /// A name followed by an optional JSON path.
    fn field(&mut self) -> Result<Field, SyntaxError> {
        let name = self.name()?;
        let mut json_path = Vec::new();
        while self.rest_starts_with("->") {
            let as_text = self.eat("->>") || {
                self.eat("->");
                false
            };
            let key = if self.peek() == Some('"') {
                JsonKey::Name(self.quoted()?)
            } else {
                let start = self.pos;
                while let Some(c) = self.peek() {
                    if NAME_STOPS.contains(&c) || self.rest_starts_with("->") {
                        break;
                    }
                    self.pos += 1;
                }
                let key: String = self.chars[start..self.pos].iter().collect();
                if key.is_empty() {
                    return Err(self.error("json key"));
                }
                match key.parse::<i64>() {
                    Ok(index) => JsonKey::Index(index),
                    Err(_) => JsonKey::Name(key),
                }
            };
            json_path.push(JsonStep { as_text, key });
        }
        Ok(Field { name, json_path })
    }

    fn rest(&mut self) -> String {
        let s: String = self.chars[self.pos..].iter().collect();
        self.pos = self.chars.len();
        s
    }
}

// ----------------------------------------------------------------------------------------
// select
// ----------------------------------------------------------------------------------------

/// `select=id,name:full_name,data->a::text,author!fk(*)`.
pub fn parse_select(input: &str) -> Result<Vec<SelectItem>, SyntaxError> {
    let mut cur = Cursor::new("select parameter", input);
    if input.trim().is_empty() {
        return Ok(vec![SelectItem::Star]);
    }
    let items = select_items(&mut cur)?;
    cur.expect_end()?;
    Ok(items)
}

fn select_items(cur: &mut Cursor) -> Result<Vec<SelectItem>, SyntaxError> {
    let mut items = Vec::new();
    loop {
        cur.skip_spaces();
        if cur.peek() == Some(')') || cur.at_end() {
            if items.is_empty() {
                return Ok(items);
            }
            return Err(cur.error("field name (* or [a..z0..9_$])"));
        }
        items.push(select_item(cur)?);
        cur.skip_spaces();
        if !cur.eat(",") {
            return Ok(items);
        }
    }
}

fn select_item(cur: &mut Cursor) -> Result<SelectItem, SyntaxError> {
    if cur.eat("*") {
        return Ok(SelectItem::Star);
    }
    if cur.eat("...") {
        // `...relation!hint!inner(items)`: no alias, no JSON path (PostgREST's grammar).
        let relation = cur.name()?;
        cur.skip_spaces();
        if cur.peek() != Some('!') && cur.peek() != Some('(') {
            return Err(cur.error("\"(\""));
        }
        return embed_rest(cur, relation, None, true);
    }
    let first = cur.field()?;
    // `alias:` (but not `::cast`)
    let (alias, field) = if cur.rest_starts_with(":") && !cur.rest_starts_with("::") {
        cur.pos += 1;
        if !first.json_path.is_empty() {
            return Err(cur.error("field name"));
        }
        (Some(first.name), cur.field()?)
    } else {
        (None, first)
    };
    cur.skip_spaces();
    if field.name == "count" && field.json_path.is_empty() && cur.peek() == Some('(') {
        // `count()` counts rows; `count` names no relation (PostgREST's grammar).
        cur.expect("()")?;
        return Ok(SelectItem::Column {
            field: Field {
                name: "*".to_owned(),
                json_path: Vec::new(),
            },
            alias,
            cast: None,
            aggregate: Some(Aggregate {
                function: AggregateFunction::Count,
                cast: optional_cast(cur)?,
            }),
        });
    }
    if cur.peek() == Some('!') || cur.peek() == Some('(') {
        if !field.json_path.is_empty() {
            return Err(cur.error("\",\" or end of input"));
        }
        return embed_rest(cur, field.name, alias, false);
    }
    let cast = optional_cast(cur)?;
    let aggregate = if cur.eat(".") {
        let start = cur.pos;
        while cur.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            cur.pos += 1;
        }
        let word: String = cur.chars[start..cur.pos].iter().collect();
        let function = match word.as_str() {
            "count" => AggregateFunction::Count,
            "sum" => AggregateFunction::Sum,
            "avg" => AggregateFunction::Avg,
            "max" => AggregateFunction::Max,
            "min" => AggregateFunction::Min,
            _ => {
                cur.pos = start;
                return Err(cur.error("aggregate function (sum, avg, count, max, min)"));
            }
        };
        cur.expect("()")?;
        Some(Aggregate {
            function,
            cast: optional_cast(cur)?,
        })
    } else {
        None
    };
    Ok(SelectItem::Column {
        field,
        alias,
        cast,
        aggregate,
    })
}

/// `::type`, if there.
fn optional_cast(cur: &mut Cursor) -> Result<Option<String>, SyntaxError> {
    if cur.eat("::") {
        Ok(Some(cast_type(cur)?))
    } else {
        Ok(None)
    }
}

/// The rest of an embed after its name: `!hint!inner(items)`.
fn embed_rest(
    cur: &mut Cursor,
    relation: String,
    alias: Option<String>,
    spread: bool,
) -> Result<SelectItem, SyntaxError> {
    let mut embed = Embed {
        relation,
        alias,
        hint: None,
        inner: false,
        spread,
        items: Vec::new(),
    };
    while cur.eat("!") {
        let word = cur.name()?;
        match word.as_str() {
            "inner" => embed.inner = true,
            "left" => embed.inner = false,
            _ if embed.hint.is_none() => embed.hint = Some(word),
            _ => return Err(cur.error("\"inner\" or \"left\"")),
        }
    }
    cur.expect("(")?;
    cur.enter()?;
    embed.items = select_items(cur)?;
    cur.nesting -= 1;
    cur.skip_spaces();
    cur.expect(")")?;
    Ok(SelectItem::Embed(embed))
}

/// The type after `::`, which the SQL writes as `CAST(<expr> AS <type>)`. PostgREST reads it
/// as letters, digits, `_`, `$` and spaces (`double precision`, `timestamp with time zone`),
/// trimmed; here each word must also start with a letter or `_`, as an unquoted SQL name does,
/// so no word can begin a dollar-quoted string or a parameter. Nothing else is a type name:
/// no quote, parenthesis, operator or `;` can reach the SQL, and the type cannot end the
/// `CAST( … )` it sits in.
fn cast_type(cur: &mut Cursor) -> Result<String, SyntaxError> {
    let start = cur.pos;
    let mut word_start = true;
    while let Some(c) = cur.peek() {
        if c == ' ' {
            word_start = true;
        } else if c.is_alphabetic() || c == '_' {
            word_start = false;
        } else if (c.is_ascii_digit() || c == '$') && !word_start {
        } else {
            break;
        }
        cur.pos += 1;
    }
    let cast: String = cur.chars[start..cur.pos].iter().collect();
    let cast = cast.trim();
    if cast.is_empty() {
        return Err(cur.error("cast type (letters, digits, \"_\", \"$\" and spaces)"));
    }
    Ok(cast.split_whitespace().collect::<Vec<_>>().join(" "))
}

// ----------------------------------------------------------------------------------------
// filters
// ----------------------------------------------------------------------------------------

/// The key of a filter, order, limit or logic parameter: `embed.path.last`, where the last
/// element is returned separately (a field for filters, `order`/`or`/... otherwise).
pub fn parse_key_path(key: &str) -> Result<(Vec<String>, Field), SyntaxError> {
    let mut cur = Cursor::new("tree path", key);
    let mut parts = vec![cur.field()?];
    while cur.eat(".") {
        parts.push(cur.field()?);
    }
    cur.expect_end()?;
    let last = parts.pop().expect("at least one part");
    if parts.iter().any(|p| !p.json_path.is_empty()) {
        return Err(cur.error("delimiter (.)"));
    }
    Ok((parts.into_iter().map(|p| p.name).collect(), last))
}

/// A filter's value: `[not.]op.value`.
pub fn parse_filter(field: Field, value: &str) -> Result<Filter, SyntaxError> {
    let mut cur = Cursor::new("filter", value);
    let filter = operation(&mut cur, field, false)?;
    cur.expect_end()?;
    Ok(filter)
}

/// `[not.]op.value`. Inside a logic tree a value ends at `,` or `)` unless quoted.
fn operation(cur: &mut Cursor, field: Field, in_tree: bool) -> Result<Filter, SyntaxError> {
    let negated = cur.eat("not.");
    let start = cur.pos;
    while cur.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
        cur.pos += 1;
    }
    let op: String = cur.chars[start..cur.pos].iter().collect();
    let operation = match op.as_str() {
        "in" => {
            cur.expect(".")?;
            Operation::In(list_value(cur)?)
        }
        "is" => {
            cur.expect(".")?;
            let word = value(cur, in_tree)?;
            let is = match word.to_ascii_lowercase().as_str() {
                "null" => IsValue::Null,
                "not_null" => IsValue::NotNull,
                "true" => IsValue::True,
                "false" => IsValue::False,
                "unknown" => IsValue::Unknown,
                _ => {
                    cur.pos -= word.chars().count();
                    return Err(cur.error("isVal: (null, not_null, true, false, unknown)"));
                }
            };
            Operation::Is(is)
        }
        "fts" | "plfts" | "phfts" | "wfts" => {
            let fts = match op.as_str() {
                "fts" => FtsOp::Plain,
                "plfts" => FtsOp::Plain2,
                "phfts" => FtsOp::Phrase,
                _ => FtsOp::Websearch,
            };
            let language = if cur.eat("(") {
                let lang = cur.name()?;
                cur.expect(")")?;
                Some(lang)
            } else {
                None
            };
            cur.expect(".")?;
            Operation::Fts {
                op: fts,
                language,
                query: value(cur, in_tree)?,
            }
        }
        _ => {
            let Some(compare) = compare_op(&op) else {
                cur.pos = start;
                return Err(cur.error("\"not\" or operator (eq, gt, ...)"));
            };
            let quantifier = if cur.eat("(any)") {
                Some(Quantifier::Any)
            } else if cur.eat("(all)") {
                Some(Quantifier::All)
            } else {
                None
            };
            cur.expect(".")?;
            let v = value(cur, in_tree)?;
            match quantifier {
                Some(q) => Operation::Quantified(compare, q, v),
                None => Operation::Compare(compare, v),
            }
        }
    };
    Ok(Filter {
        field,
        negated,
        operation,
    })
}

fn compare_op(op: &str) -> Option<CompareOp> {
    Some(match op {
        "eq" => CompareOp::Eq,
        "neq" => CompareOp::Neq,
        "gt" => CompareOp::Gt,
        "gte" => CompareOp::Gte,
        "lt" => CompareOp::Lt,
        "lte" => CompareOp::Lte,
        "like" => CompareOp::Like,
        "ilike" => CompareOp::Ilike,
        "match" => CompareOp::Match,
        "imatch" => CompareOp::Imatch,
        "cs" => CompareOp::Contains,
        "cd" => CompareOp::ContainedIn,
        "ov" => CompareOp::Overlaps,
        "sl" => CompareOp::StrictlyLeft,
        "sr" => CompareOp::StrictlyRight,
        "nxr" => CompareOp::NotExtendRight,
        "nxl" => CompareOp::NotExtendLeft,
        "adj" => CompareOp::Adjacent,
        "isdistinct" => CompareOp::IsDistinct,
        _ => return None,
    })
}

/// A single value: the rest of the input, or inside a logic tree a quoted string, a `{...}`
/// array literal or the text up to `,`/`)`.
fn value(cur: &mut Cursor, in_tree: bool) -> Result<String, SyntaxError> {
    if !in_tree {
        return Ok(cur.rest());
    }
    if cur.peek() == Some('"') {
        let save = cur.pos;
        let quoted = cur.quoted()?;
        if matches!(cur.peek(), None | Some(',') | Some(')')) {
            return Ok(quoted);
        }
        cur.pos = save;
    }
    let start = cur.pos;
    let mut depth = 0usize;
    while let Some(c) = cur.peek() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth = depth.saturating_sub(1),
            '(' if depth == 0 => depth += 1,
            ',' | ')' if depth == 0 => break,
            ')' => depth -= 1,
            _ => {}
        }
        cur.pos += 1;
    }
    Ok(cur.chars[start..cur.pos].iter().collect())
}

/// `(a,"b,c",d)` for `in`.
fn list_value(cur: &mut Cursor) -> Result<Vec<String>, SyntaxError> {
    cur.expect("(")?;
    let mut items = Vec::new();
    loop {
        cur.skip_spaces();
        if cur.peek() == Some(')') && items.is_empty() {
            cur.pos += 1;
            return Ok(items);
        }
        if cur.peek() == Some('"') {
            items.push(cur.quoted()?);
        } else {
            let start = cur.pos;
            while cur.peek().is_some_and(|c| c != ',' && c != ')') {
                cur.pos += 1;
            }
            let item: String = cur.chars[start..cur.pos].iter().collect();
            items.push(item.trim().to_owned());
        }
        cur.skip_spaces();
        if cur.eat(")") {
            return Ok(items);
        }
        cur.expect(",")?;
    }
}

// ----------------------------------------------------------------------------------------
// logic trees
// ----------------------------------------------------------------------------------------

/// `or=(a.eq.1,and(b.gt.2,c.is.null))`: `any` is true for `or`, `negated` for `not.or`.
pub fn parse_logic_tree(negated: bool, any: bool, value: &str) -> Result<LogicTree, SyntaxError> {
    let op = format!(
        "{}{}",
        if negated { "not." } else { "" },
        if any { "or" } else { "and" }
    );
    let input = format!("{op}{value}");
    let mut cur = Cursor::new("logic tree", &input);
    cur.pos = op.chars().count();
    let children = logic_children(&mut cur)?;
    cur.expect_end()?;
    Ok(LogicTree::Node {
        negated,
        any,
        children,
    })
}

fn logic_children(cur: &mut Cursor) -> Result<Vec<LogicTree>, SyntaxError> {
    cur.skip_spaces();
    cur.expect("(")?;
    cur.enter()?;
    let mut children = Vec::new();
    loop {
        cur.skip_spaces();
        children.push(logic_node(cur)?);
        cur.skip_spaces();
        if cur.eat(")") {
            cur.nesting -= 1;
            return Ok(children);
        }
        cur.expect(",")?;
    }
}

fn logic_node(cur: &mut Cursor) -> Result<LogicTree, SyntaxError> {
    let save = cur.pos;
    let negated = cur.eat("not.");
    for (word, any) in [("or(", true), ("and(", false)] {
        if cur.rest_starts_with(word) {
            cur.pos += word.len() - 1;
            return Ok(LogicTree::Node {
                negated,
                any,
                children: logic_children(cur)?,
            });
        }
    }
    cur.pos = save;
    let field = cur.field()?;
    cur.expect(".")?;
    Ok(LogicTree::Leaf(operation(cur, field, true)?))
}

// ----------------------------------------------------------------------------------------
// order, columns
// ----------------------------------------------------------------------------------------

/// `order=a.desc.nullslast,b`.
pub fn parse_order(input: &str) -> Result<Vec<OrderTerm>, SyntaxError> {
    let mut cur = Cursor::new("order", input);
    let mut terms = Vec::new();
    loop {
        let field = cur.field()?;
        if cur.peek() == Some('(') {
            return Err(cur.error("\"asc\", \"desc\", \"nullsfirst\" or \"nullslast\"; ordering by an embedded resource is not supported"));
        }
        let mut term = OrderTerm {
            field,
            descending: false,
            nulls_first: None,
        };
        if cur.eat(".asc") {
        } else if cur.eat(".desc") {
            term.descending = true;
        }
        if cur.eat(".nullsfirst") {
            term.nulls_first = Some(true);
        } else if cur.eat(".nullslast") {
            term.nulls_first = Some(false);
        }
        terms.push(term);
        cur.skip_spaces();
        if cur.at_end() {
            return Ok(terms);
        }
        if !cur.eat(",") {
            return Err(cur.error("\"asc\", \"desc\", \"nullsfirst\" or \"nullslast\""));
        }
    }
}

/// `columns=a,"b c"` and `on_conflict=a,b`.
pub fn parse_columns(what: &str, input: &str) -> Result<Vec<String>, SyntaxError> {
    let what = format!("{what} parameter");
    let mut cur = Cursor::new(&what, input);
    let mut names = vec![cur.name()?];
    while cur.eat(",") {
        names.push(cur.name()?);
    }
    cur.expect_end()?;
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str) -> Field {
        Field::column(name)
    }

    #[test]
    fn select_columns_aliases_casts_and_json_paths() {
        let items = parse_select("id,full:name,age::text,data->a->>b,x:data->0").unwrap();
        assert_eq!(items.len(), 5);
        assert_eq!(
            items[1],
            SelectItem::Column {
                field: col("name"),
                alias: Some("full".into()),
                cast: None,
                aggregate: None
            }
        );
        assert_eq!(
            items[2],
            SelectItem::Column {
                field: col("age"),
                alias: None,
                cast: Some("text".into()),
                aggregate: None
            }
        );
        let SelectItem::Column { field, .. } = &items[3] else {
            panic!()
        };
        assert_eq!(field.output_name(), "b");
        assert_eq!(field.json_path.len(), 2);
        assert!(field.json_path[1].as_text);
        let SelectItem::Column { field, .. } = &items[4] else {
            panic!()
        };
        assert_eq!(field.json_path[0].key, JsonKey::Index(0));
        assert_eq!(parse_select("").unwrap(), vec![SelectItem::Star]);
        assert_eq!(parse_select("\"a b\"").unwrap().len(), 1);
    }

    fn cast_of(select: &str) -> Result<Option<String>, SyntaxError> {
        match parse_select(select)?.pop() {
            Some(SelectItem::Column { cast, .. }) => Ok(cast),
            other => panic!("not a column: {other:?}"),
        }
    }

    #[test]
    fn casts_are_type_names_only() {
        assert_eq!(cast_of("a::text").unwrap().as_deref(), Some("text"));
        assert_eq!(cast_of("a::int4").unwrap().as_deref(), Some("int4"));
        assert_eq!(
            cast_of("a::timestamp  with time zone ").unwrap().as_deref(),
            Some("timestamp with time zone")
        );
        assert_eq!(
            cast_of("a::my_type$1").unwrap().as_deref(),
            Some("my_type$1")
        );
        // Anything that could end the CAST( … ) or start SQL of its own is PGRST100.
        for attack in [
            "id::text) AS x FROM pg_roles --",
            "id::text;drop table t",
            "id::text'",
            "id::text\"",
            "id::text--",
            "id::text/*",
            "id::int[]",
            "id::$$",
            "id::$1",
            "id::1text",
            "id::text AS x, (SELECT 1)",
            "id::",
        ] {
            let err = cast_of(attack).expect_err(attack);
            assert!(
                err.message
                    .starts_with("\"failed to parse select parameter ("),
                "{attack}: {err:?}"
            );
        }
    }

    #[test]
    fn select_embeds() {
        let items =
            parse_select("*,owner:users!todos_user_id_fkey!inner(id,name),tags(*)").unwrap();
        let SelectItem::Embed(e) = &items[1] else {
            panic!()
        };
        assert_eq!(e.relation, "users");
        assert_eq!(e.alias.as_deref(), Some("owner"));
        assert_eq!(e.hint.as_deref(), Some("todos_user_id_fkey"));
        assert!(e.inner);
        assert_eq!(e.items.len(), 2);
        let SelectItem::Embed(e) = &items[2] else {
            panic!()
        };
        assert_eq!(e.items, vec![SelectItem::Star]);
    }

    #[test]
    fn spread_embeds() {
        let items = parse_select("id,...owner!fk!inner(name,...org(title))").unwrap();
        let SelectItem::Embed(e) = &items[1] else {
            panic!()
        };
        assert!(e.spread && e.inner);
        assert_eq!(
            (e.relation.as_str(), e.hint.as_deref()),
            ("owner", Some("fk"))
        );
        assert!(matches!(&e.items[1], SelectItem::Embed(inner) if inner.spread));
        // No alias and no JSON path on a spread, and it needs its parentheses.
        assert!(parse_select("a:...owner(name)").is_err());
        assert!(parse_select("...owner->x(name)").is_err());
        assert!(parse_select("...owner").is_err());
        assert!(parse_select("..owner(name)").is_err());
    }

    fn aggregate_of(select: &str) -> (Field, Option<String>, Option<String>, Aggregate) {
        match parse_select(select).unwrap().pop() {
            Some(SelectItem::Column {
                field,
                alias,
                cast,
                aggregate: Some(aggregate),
            }) => (field, alias, cast, aggregate),
            other => panic!("not an aggregate: {other:?}"),
        }
    }

    #[test]
    fn aggregates() {
        let (field, alias, cast, agg) = aggregate_of("count()");
        assert_eq!((field.name.as_str(), alias, cast), ("*", None, None));
        assert_eq!(agg.function, AggregateFunction::Count);
        let (_, alias, _, agg) = aggregate_of("n:count()::text");
        assert_eq!(alias.as_deref(), Some("n"));
        assert_eq!(agg.cast.as_deref(), Some("text"));
        let (field, alias, cast, agg) = aggregate_of("s:data->>key::int.sum()::text");
        assert_eq!(field.name, "data");
        assert_eq!(field.json_path.len(), 1);
        assert_eq!(alias.as_deref(), Some("s"));
        assert_eq!(cast.as_deref(), Some("int"));
        assert_eq!(agg.function, AggregateFunction::Sum);
        assert_eq!(agg.cast.as_deref(), Some("text"));
        for (select, function) in [
            ("a.avg()", AggregateFunction::Avg),
            ("a.max()", AggregateFunction::Max),
            ("a.min()", AggregateFunction::Min),
            ("a.count()", AggregateFunction::Count),
        ] {
            assert_eq!(aggregate_of(select).3.function, function);
        }
        for bad in [
            "a.median()",
            "a.sum",
            "a.sum(b)",
            "count(id)",
            "count(*)",
            "a.sum()::",
        ] {
            assert!(parse_select(bad).is_err(), "{bad}");
        }
        // `sum()` alone is an (empty) embed of a relation named sum, as PostgREST reads it.
        assert!(
            matches!(&parse_select("sum()").unwrap()[0], SelectItem::Embed(e) if e.relation == "sum")
        );
    }

    #[test]
    fn select_errors_are_pgrst100_shaped() {
        let err = parse_select("id,").unwrap_err();
        assert_eq!(
            err.message,
            "\"failed to parse select parameter (id,)\" (line 1, column 4)"
        );
        assert!(parse_select("a(b").is_err());
        assert!(parse_select("a::").is_err());
        assert!(parse_select("a::text;drop").is_err());
        let deep = format!("{}*{}", "a(".repeat(100_000), ")".repeat(100_000));
        assert!(parse_select(&deep).is_err());
    }

    #[test]
    fn filters() {
        let f = parse_filter(col("id"), "eq.1").unwrap();
        assert_eq!(f.operation, Operation::Compare(CompareOp::Eq, "1".into()));
        let f = parse_filter(col("id"), "not.in.(1,\"a,b\", 3)").unwrap();
        assert!(f.negated);
        assert_eq!(
            f.operation,
            Operation::In(vec!["1".into(), "a,b".into(), "3".into()])
        );
        let f = parse_filter(col("x"), "is.NULL").unwrap();
        assert_eq!(f.operation, Operation::Is(IsValue::Null));
        let f = parse_filter(col("x"), "eq.a.b,c)").unwrap();
        assert_eq!(
            f.operation,
            Operation::Compare(CompareOp::Eq, "a.b,c)".into())
        );
        let f = parse_filter(col("x"), "fts(english).cat & dog").unwrap();
        assert!(
            matches!(f.operation, Operation::Fts { language: Some(ref l), .. } if l == "english")
        );
        let f = parse_filter(col("x"), "like(any).{a*,b*}").unwrap();
        assert_eq!(
            f.operation,
            Operation::Quantified(CompareOp::Like, Quantifier::Any, "{a*,b*}".into())
        );
        let err = parse_filter(col("x"), "val").unwrap_err();
        assert_eq!(
            err.message,
            "\"failed to parse filter (val)\" (line 1, column 1)"
        );
        assert_eq!(
            err.details,
            "unexpected \"v\" expecting \"not\" or operator (eq, gt, ...)"
        );
        assert!(parse_filter(col("x"), "is.maybe").is_err());
        assert!(parse_filter(col("x"), "eq").is_err());
        assert!(parse_filter(col("x"), "in.(1,2").is_err());
    }

    #[test]
    fn key_paths() {
        let (path, field) = parse_key_path("author.books.title").unwrap();
        assert_eq!(path, vec!["author", "books"]);
        assert_eq!(field, col("title"));
        let (path, field) = parse_key_path("data->>a").unwrap();
        assert!(path.is_empty());
        assert_eq!(field.output_name(), "a");
    }

    #[test]
    fn logic_trees() {
        let tree = parse_logic_tree(
            false,
            true,
            "(a.eq.1,and(b.gt.2,c.not.is.null),d.in.(1,2),e.eq.\"x,y\",f.cs.{1,2})",
        )
        .unwrap();
        let LogicTree::Node { any, children, .. } = tree else {
            panic!()
        };
        assert!(any);
        assert_eq!(children.len(), 5);
        let LogicTree::Node {
            any,
            children: inner,
            ..
        } = &children[1]
        else {
            panic!()
        };
        assert!(!any);
        let LogicTree::Leaf(f) = &inner[1] else {
            panic!()
        };
        assert!(f.negated);
        let LogicTree::Leaf(f) = &children[3] else {
            panic!()
        };
        assert_eq!(f.operation, Operation::Compare(CompareOp::Eq, "x,y".into()));
        let LogicTree::Leaf(f) = &children[4] else {
            panic!()
        };
        assert_eq!(
            f.operation,
            Operation::Compare(CompareOp::Contains, "{1,2}".into())
        );
        let err = parse_logic_tree(false, true, "(a.eq.1").unwrap_err();
        assert!(
            err.message
                .starts_with("\"failed to parse logic tree (or(a.eq.1)\"")
        );
        assert!(parse_logic_tree(false, false, "a.eq.1").is_err());
        assert!(parse_logic_tree(true, false, "(not.or(a.eq.1,b.eq.2))").is_ok());
        let deep = format!("({}a.eq.1{})", "or(".repeat(100_000), ")".repeat(100_000));
        assert!(parse_logic_tree(false, true, &deep).is_err());
        let nested = format!("({}a.eq.1{})", "or(".repeat(20), ")".repeat(20));
        assert!(parse_logic_tree(false, true, &nested).is_ok());
    }

    #[test]
    fn orders_and_columns() {
        let terms = parse_order("a.desc.nullslast,b,c.asc.nullsfirst,d->x.desc").unwrap();
        assert_eq!(terms.len(), 4);
        assert!(terms[0].descending);
        assert_eq!(terms[0].nulls_first, Some(false));
        assert!(!terms[1].descending);
        assert_eq!(terms[2].nulls_first, Some(true));
        assert_eq!(terms[3].field.json_path.len(), 1);
        assert!(parse_order("a.sideways").is_err());
        assert_eq!(
            parse_columns("columns", "\"a\",b").unwrap(),
            vec!["a".to_owned(), "b".to_owned()]
        );
        assert!(parse_columns("columns", "a,").is_err());
    }
}
