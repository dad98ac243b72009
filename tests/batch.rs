//! pipelines/batch.sh: many files through one pipeline script as one job, on one machine or as
//! the tasks of a job array. Every input is accounted for exactly once in the manifest, a
//! broken input fails the job without stopping the others, a re-run skips what is complete,
//! an array task runs one file, and a killed task leaves no output that looks done.

use std::path::{Path, PathBuf};
use std::process::Command;

use mediaai_pipelines::{gather_batch, manifest_rows, names_in, plugin_dir, root, sh, work_dir};

/// Three one-second clips and a text file named like a clip, in `dir/in`.
fn inputs(dir: &Path) -> PathBuf {
    let input = dir.join("in");
    if !input.join("c.mp4").is_file() {
        std::fs::create_dir_all(&input).unwrap();
        for name in ["a", "b", "c"] {
            sh(Command::new(root().join("scripts/make-clip.sh"))
                .arg(input.join(format!("{name}.mp4")))
                .args(["320x240", "1", "audio"]));
        }
        std::fs::write(input.join("d.mp4"), "not a clip\n").unwrap();
    }
    input
}

fn batch(args: &[&Path], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(root().join("pipelines/batch.sh"));
    cmd.arg("anonymize")
        .args(args)
        .env("GST_PLUGIN_PATH", plugin_dir());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn leftovers(out: &Path) -> Vec<String> {
    names_in(out, |n| n.ends_with(".part"))
}

#[test]
fn a_batch_accounts_for_every_file_once_and_resumes() {
    let dir = work_dir("batch");
    let input = inputs(&dir);
    let out = dir.join("out");
    let _ = std::fs::remove_dir_all(&out);
    let (code, _, err) = batch(&[&input, &out], &[("JOBS", "2")]);
    assert_eq!(code, 1, "a broken input fails the job:\n{err}");
    assert!(
        err.contains("1 of 4 files failed") && err.contains("d.mp4"),
        "{err}"
    );
    let rows = manifest_rows(&out);
    let expected: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|n| {
            (
                format!("{n}.mp4"),
                "done".to_string(),
                "25".to_string(),
                "25".to_string(),
            )
        })
        .chain([(
            "d.mp4".into(),
            "failed".into(),
            String::new(),
            String::new(),
        )])
        .collect();
    assert_eq!(
        rows, expected,
        "every input once, in order, frames in = out"
    );
    for n in ["a", "b", "c"] {
        assert!(out.join(format!("{n}.mp4")).is_file());
    }
    assert!(
        !out.join("d.mp4").exists(),
        "no output for the broken input"
    );
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));

    // A re-run does only what is not complete; a failing file is tried BATCH_RETRIES more
    // times.
    let (code, _, _) = batch(&[&input, &out], &[("BATCH_RETRIES", "2")]);
    assert_eq!(code, 1);
    let statuses: Vec<_> = manifest_rows(&out).into_iter().map(|r| r.1).collect();
    assert_eq!(statuses, ["skipped", "skipped", "skipped", "failed"]);
    let text = std::fs::read_to_string(out.join("manifest.csv")).unwrap();
    let attempts: Vec<_> = text
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    assert_eq!(attempts, ["0", "0", "0", "3"], "{text}");
    let log = std::fs::read_to_string(out.join("logs/d.log")).unwrap();
    assert_eq!(log.matches("trying again").count(), 2, "{log}");
}

/// One task of an array runs its own file; the gathering step reports the others missing.
#[test]
fn an_array_task_runs_one_file_and_gathering_reports_the_rest() {
    let dir = work_dir("batch-array");
    let input = inputs(&dir);
    let out = dir.join("out");
    let _ = std::fs::remove_dir_all(&out);
    let (code, _, err) = batch(&[&input, &out], &[("SLURM_ARRAY_TASK_ID", "1")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.join("b.mp4").is_file() && !out.join("a.mp4").exists());
    let (code, rows) = gather_batch(&out);
    assert_eq!(code, 1);
    let statuses: Vec<_> = rows.into_iter().map(|r| r.1).collect();
    assert_eq!(statuses, ["missing", "done", "missing", "missing"]);
    // The broken file's task fails, so a scheduler can requeue it.
    let (code, _, _) = batch(&[&input, &out], &[("BATCH_INDEX", "3")]);
    assert_eq!(code, 1);
}

/// A task killed mid-file (as `scancel` does: SIGTERM to its processes) leaves no output, not
/// even its temporary file, and its index is missing from the manifest until it runs again.
#[test]
fn a_killed_task_leaves_no_output() {
    let dir = work_dir("batch-killed");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    let long = input.join("long.mp4");
    if !long.is_file() {
        sh(Command::new(root().join("scripts/make-clip.sh"))
            .arg(&long)
            .args(["640x360", "20", "audio"]));
    }
    let out = dir.join("out");
    let _ = std::fs::remove_dir_all(&out);
    let mut task = Command::new("setsid")
        .arg(root().join("pipelines/batch.sh"))
        .arg("anonymize")
        .arg(&input)
        .arg(&out)
        .env("BATCH_INDEX", "0")
        .env("GST_PLUGIN_PATH", plugin_dir())
        .spawn()
        .unwrap();
    // Until the pipeline is writing.
    let started = std::time::Instant::now();
    while !out.join(".long.mp4.part").exists() {
        assert!(
            started.elapsed().as_secs() < 30,
            "the task never started writing"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    // The task's whole process group, as a scheduler kills a job step.
    let group = format!("-{}", task.id());
    assert!(Command::new("kill")
        .args(["-TERM", "--", &group])
        .status()
        .unwrap()
        .success());
    let _ = task.wait();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !out.join("long.mp4").exists(),
        "a killed task's output looks done"
    );
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));
    let (code, rows) = gather_batch(&out);
    assert_eq!(code, 1);
    assert_eq!(rows[0].1, "missing");
}
