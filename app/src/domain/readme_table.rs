//! The leaderboard table as the challenge README keeps it: a markdown
//! table with one row per entry. Reading checks every row before anything is
//! stored, so a file with one bad row imports nothing; inserting writes a row
//! in the table's own column order and checks that the result still reads.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

/// One valid row of the table, and where it was.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportRow {
    /// 1-based line in the file, for messages.
    pub line: usize,
    pub row: TableRow,
}

/// The fields of an entry as a README row holds them.
#[derive(Clone, Debug, PartialEq)]
pub struct TableRow {
    pub name: String,
    pub team: String,
    pub submitted_on: String,
    pub clemscore: Option<f64>,
    pub statscore: Option<f64>,
    /// The cell's markdown as written (one line).
    pub description: String,
    pub repository_url: Option<String>,
}

/// A problem with the file, located by line.
#[derive(Clone, Debug, PartialEq)]
pub struct RowError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Column {
    Rank,
    Name,
    Team,
    Date,
    Clemscore,
    Statscore,
    Description,
    Repository,
}

const REQUIRED: [(Column, &str); 5] = [
    (Column::Name, "Submission Name"),
    (Column::Team, "Team"),
    (Column::Date, "Date"),
    (Column::Clemscore, "clemscore"),
    (Column::Statscore, "statscore"),
];

fn column_for(header: &str) -> Option<Column> {
    let header: String = header
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '#')
        .collect();
    Some(match header.trim() {
        "rank" | "#" => Column::Rank,
        "submission name" | "submission" | "name" | "model" | "agent" => Column::Name,
        "team" | "team name" => Column::Team,
        "date" | "submission date" | "submitted" => Column::Date,
        "clemscore" => Column::Clemscore,
        "statscore" => Column::Statscore,
        "short description" | "description" => Column::Description,
        "repository" | "repo" | "link" => Column::Repository,
        _ => return None,
    })
}

/// A cell as the parser saw it.
#[derive(Clone, Debug, Default)]
struct Cell {
    text: String,
    source: Range<usize>,
    link: Option<String>,
}

#[derive(Debug, Default)]
struct Table {
    header_line: usize,
    header: Vec<Cell>,
    rows: Vec<(usize, Vec<Cell>)>,
}

fn line_of(offsets: &[usize], offset: usize) -> usize {
    offsets.partition_point(|&start| start <= offset)
}

fn tables(markdown: &str) -> Vec<Table> {
    let line_starts: Vec<usize> =
        std::iter::once(0).chain(markdown.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let mut tables = Vec::new();
    let mut table: Option<Table> = None;
    let mut row: Vec<Cell> = Vec::new();
    let mut row_line = 0;
    let mut cell: Option<Cell> = None;
    for (event, range) in Parser::new_ext(markdown, Options::ENABLE_TABLES).into_offset_iter() {
        match event {
            Event::Start(Tag::Table(_)) => table = Some(Table::default()),
            Event::End(TagEnd::Table) => tables.extend(table.take()),
            Event::Start(Tag::TableHead | Tag::TableRow) => {
                row = Vec::new();
                row_line = line_of(&line_starts, range.start);
            }
            Event::End(TagEnd::TableHead) => {
                if let Some(table) = table.as_mut() {
                    table.header_line = row_line;
                    table.header = std::mem::take(&mut row);
                }
            }
            Event::End(TagEnd::TableRow) => {
                if let Some(table) = table.as_mut() {
                    table.rows.push((row_line, std::mem::take(&mut row)));
                }
            }
            Event::Start(Tag::TableCell) => {
                cell = Some(Cell { source: range, ..Cell::default() });
            }
            Event::End(TagEnd::TableCell) => row.extend(cell.take()),
            Event::Start(Tag::Link { dest_url, .. }) => {
                if let Some(cell) = cell.as_mut() {
                    cell.link.get_or_insert_with(|| dest_url.to_string());
                }
            }
            Event::Text(text) | Event::Code(text) => {
                if let Some(cell) = cell.as_mut() {
                    cell.text.push_str(&text);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(cell) = cell.as_mut() {
                    cell.text.push(' ');
                }
            }
            _ => {}
        }
    }
    tables
}

/// The number of cells written on a table line; the markdown parser pads
/// or drops cells silently, so a broken row is only visible in the source.
fn written_cell_count(line: &str) -> usize {
    let line = line.trim();
    let mut count = 1;
    let mut escaped = false;
    let mut in_code = false;
    for c in line.chars() {
        match c {
            '\\' if !escaped => {
                escaped = true;
                continue;
            }
            '`' if !escaped => in_code = !in_code,
            '|' if !escaped && !in_code => count += 1,
            _ => {}
        }
        escaped = false;
    }
    count - usize::from(line.starts_with('|')) - usize::from(line.ends_with('|') && line.len() > 1)
}

fn parse_score(label: &str, text: &str) -> Result<Option<f64>, String> {
    let text = text.trim();
    if text.is_empty() || ["tba", "n/a", "-", "–"].contains(&text.to_lowercase().as_str()) {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(score) if (0.0..=100.0).contains(&score) => Ok(Some(score)),
        Ok(_) => Err(format!("{label} {text} is outside 0–100")),
        Err(_) => Err(format!("{label} \"{text}\" is not a number (or tba)")),
    }
}

/// Accepts ISO dates (`2025-07-03`), the form the board sorts by.
pub fn parse_date(text: &str) -> Result<String, String> {
    let text = text.trim();
    let parts: Vec<&str> = text.split('-').collect();
    let valid = match parts.as_slice() {
        [year, month, day] if year.len() == 4 && month.len() == 2 && day.len() == 2 => {
            match (year.parse::<u32>(), month.parse::<u32>(), day.parse::<u32>()) {
                (Ok(year), Ok(month), Ok(day)) => {
                    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
                    let days = match month {
                        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
                        4 | 6 | 9 | 11 => 30,
                        2 if leap => 29,
                        2 => 28,
                        _ => 0,
                    };
                    (1..=days).contains(&day)
                }
                _ => false,
            }
        }
        _ => false,
    };
    if valid {
        Ok(text.to_string())
    } else {
        Err(format!("date \"{text}\" is not a date like 2025-07-03"))
    }
}

/// The key two spellings of one name share: case and spacing ignored.
pub fn name_key(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

fn read_row(
    line: usize,
    cells: &[Cell],
    columns: &HashMap<Column, usize>,
    markdown: &str,
) -> Result<ImportRow, Vec<String>> {
    let cell = |column: Column| columns.get(&column).and_then(|&i| cells.get(i));
    let text = |column: Column| cell(column).map(|c| c.text.trim().to_string()).unwrap_or_default();
    let mut problems = Vec::new();

    let name = text(Column::Name);
    if name.is_empty() {
        problems.push("the submission name is empty".to_string());
    }
    let team = text(Column::Team);
    if team.is_empty() {
        problems.push("the team is empty".to_string());
    }
    let submitted_on = parse_date(&text(Column::Date)).map_err(|e| problems.push(e)).ok();
    let clemscore = parse_score("clemscore", &text(Column::Clemscore)).map_err(|e| problems.push(e)).ok();
    let statscore = parse_score("statscore", &text(Column::Statscore)).map_err(|e| problems.push(e)).ok();
    let repository_url = cell(Column::Repository)
        .and_then(|c| c.link.clone().or_else(|| Some(c.text.trim().to_string())))
        .or_else(|| cell(Column::Name).and_then(|c| c.link.clone()))
        .filter(|url| !url.is_empty());
    if let Some(url) = &repository_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            problems.push(format!("repository link \"{url}\" is not an http(s) URL"));
        }
    }
    let description = cell(Column::Description)
        .map(|c| markdown[c.source.clone()].trim().trim_matches('|').trim().to_string())
        .unwrap_or_default();

    match (problems.is_empty(), submitted_on, clemscore, statscore) {
        (true, Some(submitted_on), Some(clemscore), Some(statscore)) => Ok(ImportRow {
            line,
            row: TableRow { name, team, submitted_on, clemscore, statscore, description, repository_url },
        }),
        _ => Err(problems),
    }
}

/// The first table with a team and a clemscore column.
fn leaderboard_table(markdown: &str) -> Option<Table> {
    tables(markdown).into_iter().find(|table| {
        let found: Vec<_> = table.header.iter().filter_map(|c| column_for(&c.text)).collect();
        found.contains(&Column::Team) && found.contains(&Column::Clemscore)
    })
}

/// Reads the first leaderboard table of `markdown`: all of its rows, or every problem found.
pub fn parse_leaderboard(markdown: &str) -> Result<Vec<ImportRow>, Vec<RowError>> {
    let lines: Vec<&str> = markdown.lines().collect();
    let Some(table) = leaderboard_table(markdown) else {
        return Err(vec![RowError {
            line: 1,
            message: "no leaderboard table found: expected a markdown table with the columns \
                      Submission Name, Date, Team, clemscore and statscore"
                .to_string(),
        }]);
    };

    let mut columns = HashMap::new();
    for (index, cell) in table.header.iter().enumerate() {
        if let Some(column) = column_for(&cell.text) {
            columns.entry(column).or_insert(index);
        }
    }
    let missing: Vec<&str> =
        REQUIRED.iter().filter(|(c, _)| !columns.contains_key(c)).map(|(_, label)| *label).collect();
    if !missing.is_empty() {
        return Err(vec![RowError {
            line: table.header_line,
            message: format!("the table has no {} column", missing.join(", no ")),
        }]);
    }

    let mut errors = Vec::new();
    let mut rows: Vec<ImportRow> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (line, cells) in &table.rows {
        let written = lines.get(line - 1).map_or(0, |l| written_cell_count(l));
        if written != table.header.len() {
            errors.push(RowError {
                line: *line,
                message: format!(
                    "the row has {written} cells but the header has {}",
                    table.header.len()
                ),
            });
            continue;
        }
        match read_row(*line, cells, &columns, markdown) {
            Ok(row) => {
                if let Some(first) = seen.insert(name_key(&row.row.name), row.line) {
                    errors.push(RowError {
                        line: row.line,
                        message: format!("\"{}\" is already listed on line {first}", row.row.name),
                    });
                } else {
                    rows.push(row);
                }
            }
            Err(problems) => errors.extend(
                problems.into_iter().map(|message| RowError { line: *line, message }),
            ),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(RowError { line: table.header_line, message: "the table has no rows".to_string() });
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

/// Text made safe for one table cell: one line, pipes escaped.
fn cell_text(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

fn score_text(score: Option<f64>) -> String {
    score.map_or_else(|| "tba".to_string(), |score| format!("{score:.2}"))
}

/// `markdown` with `row` appended to its leaderboard table. The rank cell is
/// left empty: the site ranks, nobody renumbers rows by hand. Refuses when
/// there is no table, or when the result would not read back with the row.
pub fn insert_row(markdown: &str, row: &TableRow) -> Result<String, String> {
    let table = leaderboard_table(markdown).ok_or("the README has no leaderboard table (columns Submission Name, Team, clemscore, …)")?;
    let has_repository_column = table.header.iter().any(|c| column_for(&c.text) == Some(Column::Repository));
    let name = match (&row.repository_url, has_repository_column) {
        (Some(url), false) => format!("[{}]({url})", cell_text(&row.name)),
        _ => cell_text(&row.name),
    };
    let cells: Vec<String> = table
        .header
        .iter()
        .map(|header| match column_for(&header.text) {
            Some(Column::Rank) | None => String::new(),
            Some(Column::Name) => name.clone(),
            Some(Column::Team) => cell_text(&row.team),
            Some(Column::Date) => row.submitted_on.clone(),
            Some(Column::Clemscore) => score_text(row.clemscore),
            Some(Column::Statscore) => score_text(row.statscore),
            Some(Column::Description) => cell_text(&row.description),
            Some(Column::Repository) => row.repository_url.clone().unwrap_or_default(),
        })
        .collect();
    let lines: Vec<&str> = markdown.split_inclusive('\n').collect();
    // The header line, then the delimiter line, then the rows.
    let last_line = table.rows.last().map_or(table.header_line + 1, |(line, _)| *line);
    let template = lines.get(table.header_line - 1).copied().unwrap_or_default().trim_end();
    let (open, close) = (template.starts_with('|'), template.ends_with('|'));
    let mut new_line = cells.iter().map(|c| format!(" {c} ").replace("  ", " ")).collect::<Vec<_>>().join("|");
    if open {
        new_line.insert(0, '|');
    }
    if close {
        new_line.push('|');
    }
    let mut out = String::with_capacity(markdown.len() + new_line.len() + 2);
    for (index, line) in lines.iter().enumerate() {
        out.push_str(line);
        if index + 1 == last_line {
            if !line.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(new_line.trim());
            out.push('\n');
        }
    }
    match parse_leaderboard(&out) {
        Ok(rows) if rows.iter().any(|r| name_key(&r.row.name) == name_key(&row.name)) => Ok(out),
        Ok(_) => Err("the new row did not land in the leaderboard table".to_string()),
        Err(errors) => Err(format!(
            "the README table does not read with the new row: {}",
            errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = "\
# Leaderboard

Some text before the table.

| Rank | Submission Name | Date | Team | clemscore | statscore | Short Description |
|------|-----------------|------|------|-----------|-----------|-------------------|
| 1 | [Llama-3.1-8B-Instruct](https://example.org/base) | 2025-07-03 | OrgTeam | 24.60 | 55.45 | The **base** model |
| 2 | Llama-3.1-8B-It-4bit | 2025-07-03 | Team Potzblitz | 19.58 | tba | 4-bit `quantized` |
";

    #[test]
    fn reads_the_readme_table() {
        let rows = parse_leaderboard(README).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 7);
        assert_eq!(rows[0].row.name, "Llama-3.1-8B-Instruct");
        assert_eq!(rows[0].row.repository_url.as_deref(), Some("https://example.org/base"));
        assert_eq!(rows[0].row.clemscore, Some(24.60));
        assert_eq!(rows[0].row.statscore, Some(55.45));
        assert_eq!(rows[0].row.description, "The **base** model");
        assert_eq!(rows[1].row.team, "Team Potzblitz");
        assert_eq!(rows[1].row.statscore, None);
        assert_eq!(rows[1].row.description, "4-bit `quantized`");
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_nothing_is_returned() {
        let markdown = format!(
            "{README}| 3 | Bad | 2025-13-03 | Team X | abc | 200 | x |\n| 4 | Short | 2025-07-03 | Team Y |\n"
        );
        let errors = parse_leaderboard(&markdown).unwrap_err();
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            vec![
                "line 9: date \"2025-13-03\" is not a date like 2025-07-03",
                "line 9: clemscore \"abc\" is not a number (or tba)",
                "line 9: statscore 200 is outside 0–100",
                "line 10: the row has 4 cells but the header has 7",
            ]
        );
    }

    #[test]
    fn a_file_without_a_table_says_what_is_expected() {
        let errors = parse_leaderboard("<html><body>results</body></html>").unwrap_err();
        assert!(errors[0].message.starts_with("no leaderboard table found"));
    }

    #[test]
    fn missing_columns_are_named() {
        let errors = parse_leaderboard("| Team | clemscore |\n|---|---|\n| A | 1 |\n").unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "line 1: the table has no Submission Name, no Date, no statscore column"
        );
    }

    #[test]
    fn the_same_submission_twice_is_an_error() {
        let markdown = format!("{README}| 3 | llama-3.1-8b-it-4BIT | 2025-07-04 | T | 1 | 2 | x |\n");
        let errors = parse_leaderboard(&markdown).unwrap_err();
        assert_eq!(errors[0].to_string(), "line 9: \"llama-3.1-8b-it-4BIT\" is already listed on line 8");
    }

    #[test]
    fn escaped_pipes_do_not_split_cells() {
        assert_eq!(written_cell_count("| a \\| b | c |"), 2);
        assert_eq!(written_cell_count("| `a|b` | c |"), 2);
        assert_eq!(written_cell_count("a | b"), 2);
    }

    #[test]
    fn dates_are_checked_for_real_days() {
        assert!(parse_date("2024-02-29").is_ok());
        assert!(parse_date("2025-02-29").is_err());
        assert!(parse_date("03.07.2025").is_err());
    }

    #[test]
    fn team_spellings_share_a_key_when_only_case_and_spacing_differ() {
        assert_eq!(name_key("Team  Potzblitz"), name_key("team potzblitz"));
        assert_ne!(name_key("Team Potzblitz"), name_key("Team Potsblitz"));
    }

    fn entry(name: &str) -> TableRow {
        TableRow {
            name: name.to_string(),
            team: "Team | Pipes".to_string(),
            submitted_on: "2026-11-25".to_string(),
            clemscore: Some(33.714),
            statscore: None,
            description: "Self-play\nwith **care**".to_string(),
            repository_url: Some("https://example.org/repo".to_string()),
        }
    }

    #[test]
    fn a_new_row_goes_under_the_last_one_in_the_tables_format() {
        let markdown = format!("{README}\nText after the table.\n");
        let updated = insert_row(&markdown, &entry("Playful 8B")).unwrap();
        let added: Vec<&str> = updated.lines().filter(|l| !markdown.lines().any(|m| m == *l)).collect();
        assert_eq!(
            added,
            ["| | [Playful 8B](https://example.org/repo) | 2026-11-25 | Team \\| Pipes | 33.71 | tba | Self-play with **care** |"]
        );
        assert!(updated.ends_with("\nText after the table.\n"), "the rest of the file is kept");
        let rows = parse_leaderboard(&updated).unwrap();
        let row = &rows.last().unwrap().row;
        assert_eq!((row.name.as_str(), row.team.as_str(), row.clemscore), ("Playful 8B", "Team | Pipes", Some(33.71)));
    }

    #[test]
    fn inserting_refuses_a_readme_without_a_table_or_a_taken_name() {
        assert!(insert_row("# Nothing here\n", &entry("x")).unwrap_err().contains("no leaderboard table"));
        let taken = insert_row(README, &entry("llama-3.1-8b-it-4BIT")).unwrap_err();
        assert!(taken.contains("already listed"), "{taken}");
    }
}
