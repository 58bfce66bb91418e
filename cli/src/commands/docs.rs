//! `autoscope completions SHELL` and `autoscope man`: shell completion scripts and
//! manual pages generated from the same clap definition the parser uses, so they
//! cannot drift from the real flags.

use super::console;
use super::output::{Destination, Inputs};
use anyhow::Result;
use clap::CommandFactory;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `autoscope completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    shell: clap_complete::Shell,
}

/// Arguments of `autoscope man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write `autoscope.1` and one `autoscope-COMMAND.1` per command into this folder
    /// (created) instead of printing `autoscope.1`.
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
}

/// Runs `autoscope completions`.
pub fn run_completions(args: CompletionsArgs) -> Result<ExitCode> {
    let mut command = super::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "autoscope", &mut script);
    console::out(&String::from_utf8_lossy(&script))?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `autoscope man`.
pub fn run_man(args: ManArgs) -> Result<ExitCode> {
    let command = super::Cli::command();
    let Some(folder) = args.output else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command).render(&mut page)?;
        console::out(&String::from_utf8_lossy(&page))?;
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(&folder).map_err(|e| {
        super::input_error(format!(
            "{}: cannot create the folder: {}",
            folder.display(),
            super::output::io_message(&e)
        ))
    })?;
    // Built, a command knows its subcommands' display names (`autoscope-sample`),
    // which name their pages as `man autoscope-sample` finds them.
    let mut command = command.disable_help_subcommand(true);
    command.build();
    let mut pages = vec![clap_mangen::Man::new(command.clone())];
    pages.extend(
        command
            .get_subcommands()
            .filter(|sub| !sub.is_hide_set())
            .map(|sub| clap_mangen::Man::new(sub.clone())),
    );
    // Every destination is checked before any page is written.
    let destinations: Vec<(Destination, clap_mangen::Man)> = pages
        .into_iter()
        .map(|page| {
            Destination::file(&folder.join(page.get_filename()), &Inputs::default())
                .map(|d| (d, page))
        })
        .collect::<Result<_>>()?;
    for (destination, page) in &destinations {
        destination.write_with(|out| {
            page.render(out)?;
            Ok(())
        })?;
        console::detail(&format!("wrote {}", destination.name()));
    }
    console::status(&format!(
        "wrote {} manual pages to {}",
        destinations.len(),
        folder.display()
    ));
    Ok(ExitCode::SUCCESS)
}
