//! The `watchword` binary: parses the command line and hands over to [`watchword::cli`].

fn main() -> std::process::ExitCode {
    watchword::cli::main()
}
