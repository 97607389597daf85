//! Progress of a streamed run on stderr: a bar (chunks done / total, bytes per second, time
//! left) when stderr is a terminal and the run has taken more than a second; a plain line
//! every five seconds with `--progress` when it is not; nothing with `--quiet`.

use rumba::stream::Progress;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A bar on a terminal, nothing otherwise.
    Auto,
    /// A bar on a terminal, a line every few seconds otherwise.
    Lines,
    /// Nothing.
    Quiet,
}

/// The time before anything is shown.
const DELAY: Duration = Duration::from_secs(1);
/// The interval between plain lines.
const EVERY: Duration = Duration::from_secs(5);

struct State {
    start: Instant,
    bar: Option<indicatif::ProgressBar>,
    last_line: Option<Instant>,
}

/// A progress reporter for one run.
pub struct Reporter {
    mode: Mode,
    terminal: bool,
    state: Mutex<State>,
}

impl Reporter {
    /// A reporter in `mode`.
    pub fn new(mode: Mode) -> Reporter {
        Reporter {
            mode,
            terminal: std::io::stderr().is_terminal(),
            state: Mutex::new(State {
                start: Instant::now(),
                bar: None,
                last_line: None,
            }),
        }
    }

    /// Shows `p` if it is time to.
    pub fn update(&self, p: Progress) {
        if self.mode == Mode::Quiet || (!self.terminal && self.mode == Mode::Auto) {
            return;
        }
        let Ok(mut state) = self.state.lock() else { return };
        let elapsed = state.start.elapsed();
        if elapsed < DELAY && p.done < p.total {
            return;
        }
        let rate = p.bytes as f64 / elapsed.as_secs_f64().max(1e-9);
        if self.terminal {
            let bar = state.bar.get_or_insert_with(|| {
                let bar = indicatif::ProgressBar::new(p.total as u64);
                let style = indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} chunks  {msg}  elapsed {elapsed}, left {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
                bar.set_style(style);
                bar
            });
            bar.set_position(p.done as u64);
            bar.set_message(format!("{:.2} GB/s", rate / 1e9));
            if p.done >= p.total {
                bar.finish_and_clear();
            }
            return;
        }
        if state.last_line.is_some_and(|t| t.elapsed() < EVERY) && p.done < p.total {
            return;
        }
        state.last_line = Some(Instant::now());
        let left = if p.done == 0 {
            "?".to_owned()
        } else {
            let per = elapsed.as_secs_f64() / p.done as f64;
            format!("{:.0} s", per * (p.total - p.done) as f64)
        };
        let _ = writeln!(
            std::io::stderr(),
            "progress: {}/{} chunks ({:.0} %), {:.2} GB/s, {left} left",
            p.done,
            p.total,
            100.0 * p.done as f64 / p.total.max(1) as f64,
            rate / 1e9
        );
    }
}
