//! `finctl __generate-docs DIR`, for the packages (packaging/build.sh):
//! the man pages and the bash, zsh and fish completions, written from the
//! command line's own definition so they never drift from it. Handled
//! before the command line is parsed, so it shows in neither.

use std::path::{Path, PathBuf};

use clap_complete::Shell;

const ARGUMENT: &str = "__generate-docs";

/// The folder asked for, when the first argument asks for the docs.
pub fn requested() -> Option<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    (args.next()? == ARGUMENT).then(|| args.next().map(PathBuf::from))?
}

/// `NAME.1` and `NAME-SUB.1` man pages into `out`, and the completions into
/// `out/completions` (`NAME.bash`, `_NAME`, `NAME.fish`).
pub fn write(command: clap::Command, out: &Path) -> std::io::Result<()> {
    let completions = out.join("completions");
    std::fs::create_dir_all(&completions)?;
    clap_mangen::generate_to(command.clone(), out)?;
    let name = command.get_name().to_string();
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut command.clone(), &name, &completions)?;
    }
    Ok(())
}
