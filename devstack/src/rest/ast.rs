//! What a PostgREST request asks for, once its query string is parsed: the shapes the
//! parsers produce and the SQL builders consume.

/// A column, possibly followed by a JSON path (`data->a->>b`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub json_path: Vec<JsonStep>,
}

impl Field {
    #[cfg(test)]
    pub fn column(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            json_path: Vec::new(),
        }
    }

    /// The key PostgREST names the output after: the last JSON key, else the column.
    pub fn output_name(&self) -> &str {
        match self.json_path.last() {
            Some(JsonStep {
                key: JsonKey::Name(key),
                ..
            }) => key,
            _ => &self.name,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonStep {
    /// `->>` (as text) rather than `->` (as json).
    pub as_text: bool,
    pub key: JsonKey,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonKey {
    Name(String),
    Index(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectItem {
    /// `*`: every column.
    Star,
    /// `alias:field::cast`, or with an aggregate `alias:field::cast.sum()::cast`; `count()`
    /// alone is the field `*` counted.
    Column {
        field: Field,
        alias: Option<String>,
        cast: Option<String>,
        aggregate: Option<Aggregate>,
    },
    /// `alias:relation!hint!inner(items)`
    Embed(Embed),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embed {
    /// The table, FK constraint or FK column named in the request.
    pub relation: String,
    pub alias: Option<String>,
    /// A foreign key constraint or column name that picks one of several relationships.
    pub hint: Option<String>,
    /// `!inner`: drop parent rows that have no match.
    pub inner: bool,
    /// `...relation(items)`: the items lifted into the parent object (to-one only).
    pub spread: bool,
    pub items: Vec<SelectItem>,
}

/// An aggregate applied to a selected column (`amount.sum()::text`), PostgREST's
/// `db-aggregates-enabled`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    pub function: AggregateFunction,
    /// The cast of the aggregate's result (`.sum()::text`).
    pub cast: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateFunction {
    Count,
    Sum,
    Avg,
    Max,
    Min,
}

impl AggregateFunction {
    /// The SQL function, and the name Postgres gives an unaliased result column.
    pub fn name(self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::Sum => "sum",
            Self::Avg => "avg",
            Self::Max => "max",
            Self::Min => "min",
        }
    }
}

impl Embed {
    /// The key the embedded value gets in each parent object, and the name filters use.
    pub fn output_name(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.relation)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    Like,
    Ilike,
    Match,
    Imatch,
    Contains,
    ContainedIn,
    Overlaps,
    StrictlyLeft,
    StrictlyRight,
    NotExtendRight,
    NotExtendLeft,
    Adjacent,
    IsDistinct,
}

impl CompareOp {
    pub fn sql(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Neq => "<>",
            Self::Gt => ">",
            Self::Gte => ">=",
            Self::Lt => "<",
            Self::Lte => "<=",
            Self::Like => "LIKE",
            Self::Ilike => "ILIKE",
            Self::Match => "~",
            Self::Imatch => "~*",
            Self::Contains => "@>",
            Self::ContainedIn => "<@",
            Self::Overlaps => "&&",
            Self::StrictlyLeft => "<<",
            Self::StrictlyRight => ">>",
            Self::NotExtendRight => "&<",
            Self::NotExtendLeft => "&>",
            Self::Adjacent => "-|-",
            Self::IsDistinct => "IS DISTINCT FROM",
        }
    }

    /// `like`/`ilike` patterns use `*` for `%`, so that URLs need no escaping.
    pub fn uses_wildcards(self) -> bool {
        matches!(self, Self::Like | Self::Ilike)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    Any,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsValue {
    Null,
    NotNull,
    True,
    False,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtsOp {
    /// `fts`: `to_tsquery`
    Plain,
    /// `plfts`: `plainto_tsquery`
    Plain2,
    /// `phfts`: `phraseto_tsquery`
    Phrase,
    /// `wfts`: `websearch_to_tsquery`
    Websearch,
}

impl FtsOp {
    pub fn function(self) -> &'static str {
        match self {
            Self::Plain => "to_tsquery",
            Self::Plain2 => "plainto_tsquery",
            Self::Phrase => "phraseto_tsquery",
            Self::Websearch => "websearch_to_tsquery",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Compare(CompareOp, String),
    /// `eq(any).{a,b}`: compare with any/all of a Postgres array literal.
    Quantified(CompareOp, Quantifier, String),
    In(Vec<String>),
    Is(IsValue),
    Fts {
        op: FtsOp,
        language: Option<String>,
        query: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub field: Field,
    pub negated: bool,
    pub operation: Operation,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogicTree {
    Node {
        negated: bool,
        /// `or` rather than `and`.
        any: bool,
        children: Vec<LogicTree>,
    },
    Leaf(Filter),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTerm {
    pub field: Field,
    pub descending: bool,
    /// `Some(true)` nulls first, `Some(false)` nulls last, `None` Postgres's default.
    pub nulls_first: Option<bool>,
}

/// The names leading to an embedded resource (`author.books` in `author.books.id=eq.1`);
/// empty for the requested table itself.
pub type EmbedPath = Vec<String>;
