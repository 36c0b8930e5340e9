//! `charter-faults --seconds N [--seed S] [--no-twins] [--no-partitions]
//! [--no-hostile-peer] [--lone-cell] [--dir DIR]`: the fault harness for as
//! long as asked, printing the history checker's summary; exits 1 if a promise was broken.

use charter_e2e::faults::{run, Plan};

fn main() {
    let mut plan = Plan {
        validators: 5,
        fault_seconds: 600,
        seed: 1,
        twins: true,
        batch: 16,
        liveness: true,
        partitions: true,
        hostile_peer: true,
        federated: true,
    };
    let mut dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| panic!("{name} needs a value"))
        };
        match arg.as_str() {
            "--seconds" => plan.fault_seconds = value("--seconds").parse().expect("seconds"),
            "--seed" => plan.seed = value("--seed").parse().expect("a seed"),
            "--dir" => dir = Some(std::path::PathBuf::from(value("--dir"))),
            "--no-twins" => plan.twins = false,
            "--no-partitions" => plan.partitions = false,
            "--no-hostile-peer" => plan.hostile_peer = false,
            "--lone-cell" => plan.federated = false,
            other => panic!("unknown argument {other}"),
        }
    }
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("charter-faults-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).expect("the run directory can be created");
    eprintln!("run directory: {}", dir.display());
    let summary = run(&dir, &plan);
    println!("{summary}");
    let violations = summary.violations();
    for violation in &violations {
        println!("VIOLATION: {violation}");
    }
    std::process::exit(i32::from(!violations.is_empty()));
}
