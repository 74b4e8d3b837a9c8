//! 中文的帮助与用法错误。
//!
//! clap writes its own words in English: the headings (Usage, Commands, Arguments,
//! Options), `[OPTIONS]`, `[env: …]`, `[default: …]`, `[possible values: …]`, the help and
//! version flags, and every parse error. clap has no translations, so this module takes
//! the command clap derives from `cli::Cli` and rewrites those parts: Chinese headings in
//! a help template, the defaults, environment variables and choices folded into each
//! flag's own (Chinese) help text, Chinese help/version flags, and the usage errors a
//! clerk meets (a missing flag, a wrong value, an unknown command) in Chinese with the
//! command's usage. English flags and values are unchanged: only the words around them.

use std::collections::HashMap;
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command, CommandFactory, FromArgMatches};

use crate::cli::Cli;

const TEMPLATE: &str = "{about-with-newline}\n用法：{usage}\n\n{all-args}{after-help}";

/// Parses the process's arguments; on `--help`/`--version` or a usage error prints it (in
/// Chinese) and returns the exit status instead.
pub(crate) fn parse() -> Result<Cli, ExitCode> {
    let mut cmd = command();
    let parsed = cmd.try_get_matches_from_mut(std::env::args_os()).and_then(|m| Cli::from_arg_matches(&m));
    parsed.map_err(|e| report(&e, &invoked(&cmd)))
}

/// The whole command line with Chinese help: headings, flags, notes and usage lines.
pub(crate) fn command() -> Command {
    // Usage lines exist only once clap has built the command (globals propagated), so
    // they are rendered from a built copy and set on the copy that is returned.
    let mut built = localise(Cli::command(), true);
    built.build();
    let mut usages = HashMap::new();
    collect_usages(&mut built, String::new(), &mut usages);
    set_usages(localise(Cli::command(), true), String::new(), &usages)
}

fn localise(cmd: Command, root: bool) -> Command {
    let mut cmd = cmd
        .help_template(TEMPLATE)
        .subcommand_help_heading("命令")
        .subcommand_value_name("命令")
        .disable_help_subcommand(true)
        .disable_help_flag(true)
        .mut_args({
            // Positionals under a heading of their own are sorted by name unless they have
            // a display order: keep them in the order they are given on the command line.
            let mut position = 0;
            move |arg| {
                let arg = if arg.is_positional() { arg.display_order(position) } else { arg };
                position += 1;
                localise_arg(arg)
            }
        })
        .arg(Arg::new("help").short('h').long("help").action(ArgAction::Help).help("显示帮助").help_heading("选项"));
    if root {
        cmd = cmd.disable_version_flag(true).arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("显示版本")
                .help_heading("选项"),
        );
    }
    cmd.mut_subcommands(|sub| localise(sub, false))
}

/// One flag: a Chinese heading, and its default, environment variable and choices said
/// in Chinese inside its help text instead of clap's English brackets.
fn localise_arg(arg: Arg) -> Arg {
    let heading = if arg.is_positional() { "参数" } else { "选项" };
    let mut notes = Vec::new();
    if arg.get_action().takes_values() {
        let choices: Vec<String> =
            arg.get_possible_values().iter().filter(|v| !v.is_hide_set()).map(|v| v.get_name().to_string()).collect();
        if !choices.is_empty() {
            notes.push(format!("可选：{}", choices.join("、")));
        }
        let defaults: Vec<String> = arg.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect();
        if !defaults.is_empty() {
            notes.push(format!("默认：{}", defaults.join("、")));
        }
    }
    if let Some(env) = arg.get_env() {
        notes.push(format!("环境变量 {}", env.to_string_lossy()));
    }
    let short = arg.get_help().map(ToString::to_string);
    let long = arg.get_long_help().map(ToString::to_string);
    let takes_values = arg.get_action().takes_values();
    let arg = arg.help_heading(heading).hide_env(true);
    let arg = if takes_values { arg.hide_default_value(true).hide_possible_values(true) } else { arg };
    if notes.is_empty() {
        return arg;
    }
    let note = format!("［{}］", notes.join("；"));
    let arg = arg.help(match short {
        Some(h) => format!("{h} {note}"),
        None => note.clone(),
    });
    match long {
        Some(h) => arg.long_help(format!("{h}\n{note}")),
        None => arg,
    }
}

fn collect_usages(cmd: &mut Command, path: String, out: &mut HashMap<String, String>) {
    let usage = cmd.render_usage().to_string();
    let usage = usage.trim_start_matches("Usage:").trim().replace("[OPTIONS]", "[选项]").replace("<COMMAND>", "<命令>");
    out.insert(path.clone(), usage);
    for sub in cmd.get_subcommands_mut() {
        let sub_path = format!("{path} {}", sub.get_name());
        collect_usages(sub, sub_path, out);
    }
}

fn set_usages(cmd: Command, path: String, usages: &HashMap<String, String>) -> Command {
    let cmd = match usages.get(&path) {
        Some(usage) => cmd.override_usage(usage.clone()),
        None => cmd,
    };
    cmd.mut_subcommands(|sub| {
        let sub_path = format!("{path} {}", sub.get_name());
        set_usages(sub, sub_path, usages)
    })
}

/// The command the user was running (`yishi report`), from the words of the command
/// line that name subcommands.
fn invoked(cmd: &Command) -> String {
    let mut path = vec![cmd.get_name().to_string()];
    let mut current = cmd;
    for word in std::env::args().skip(1) {
        if let Some(sub) = current.find_subcommand(&word) {
            path.push(sub.get_name().to_string());
            current = sub;
        }
    }
    path.join(" ")
}

/// Prints a help/version request as it is and a usage error in Chinese; the exit status.
fn report(e: &clap::Error, command: &str) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::from(2);
        }
        _ => {}
    }
    eprintln!("错误：{}", message(e));
    let usage = context(e, ContextKind::Usage);
    if let Some(usage) = usage {
        eprintln!("\n用法：{}", usage.trim_start_matches("Usage:").trim());
    }
    eprintln!("\n查看说明：{command} --help");
    ExitCode::from(2)
}

/// The Chinese sentence of a usage error, from the facts clap records in its context.
fn message(e: &clap::Error) -> String {
    let arg = context(e, ContextKind::InvalidArg).unwrap_or_default();
    let value = context(e, ContextKind::InvalidValue).unwrap_or_default();
    let hint = |kind| context(e, kind).map(|s| format!("（是否为：{s}？）")).unwrap_or_default();
    match e.kind() {
        ErrorKind::InvalidValue if value.is_empty() => format!("{arg} 需要一个值"),
        ErrorKind::InvalidValue => {
            let valid = context(e, ContextKind::ValidValue).map(|v| format!("；可选：{v}")).unwrap_or_default();
            format!("{arg} 的值“{value}”无效{valid}")
        }
        ErrorKind::ValueValidation => {
            let why = std::error::Error::source(e).map(reason).unwrap_or_default();
            format!("{arg} 的值“{value}”无效{why}")
        }
        ErrorKind::UnknownArgument => format!("不认识的选项或参数“{arg}”{}", hint(ContextKind::SuggestedArg)),
        ErrorKind::InvalidSubcommand => {
            let name = context(e, ContextKind::InvalidSubcommand).unwrap_or_default();
            format!("没有“{name}”这个命令{}", hint(ContextKind::SuggestedSubcommand))
        }
        ErrorKind::MissingRequiredArgument => format!("缺少必需的参数：{arg}"),
        ErrorKind::MissingSubcommand => "缺少命令".to_string(),
        ErrorKind::ArgumentConflict => {
            let prior = context(e, ContextKind::PriorArg).unwrap_or_default();
            format!("{arg} 不能与 {prior} 同时使用")
        }
        ErrorKind::TooManyValues | ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            format!("{arg} 的值的个数不对")
        }
        ErrorKind::NoEquals => format!("{arg} 的值要用等号写，例如 {arg}=值"),
        ErrorKind::InvalidUtf8 => "参数不是有效的 UTF-8 文本".to_string(),
        _ => e.to_string().trim_start_matches("error:").trim().to_string(),
    }
}

/// Why a value was refused: our parsers' own (Chinese) words, the standard library's
/// English ones replaced.
fn reason(source: &(dyn std::error::Error + 'static)) -> String {
    if source.is::<std::num::ParseIntError>() || source.is::<std::num::ParseFloatError>() {
        "：不是有效的数字".to_string()
    } else if source.is::<std::net::AddrParseError>() {
        "：不是有效的地址（例如 127.0.0.1:8080）".to_string()
    } else if source.to_string().is_ascii() {
        "：格式不对".to_string()
    } else {
        format!("：{source}")
    }
}

fn context(e: &clap::Error, kind: ContextKind) -> Option<String> {
    let text = match e.get(kind)? {
        ContextValue::String(s) => s.clone(),
        ContextValue::Strings(v) => v.join("、"),
        ContextValue::StyledStr(s) => s.to_string(),
        ContextValue::StyledStrs(v) => v.iter().map(ToString::to_string).collect::<Vec<_>>().join("、"),
        ContextValue::Number(n) => n.to_string(),
        _ => return None,
    };
    Some(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        super::command().debug_assert();
    }
}
