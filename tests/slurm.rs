//! pipelines/batch.sh on a real Slurm cluster (Debian's slurmctld and two slurmd nodes on this
//! host, `scripts/slurm-local.sh`): a job array of seven clips, one broken, runs on both nodes;
//! every good output has its input's frames, the broken one is failed in the manifest and the
//! job fails; a task cancelled mid-file leaves no output and is reported missing; the same
//! clips on one node are timed beside (printed: both nodes share this host's two cores). The
//! cluster is stopped by its PIDs afterwards.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use mediaai_pipelines::{plugin_dir, root, sh, work_dir};

/// The cluster, stopped when dropped (a failing assertion included).
struct Cluster(PathBuf);

impl Cluster {
    fn start(dir: &Path) -> Self {
        sh(Command::new(root().join("scripts/slurm-local.sh"))
            .arg("start")
            .arg(dir));
        Cluster(dir.to_path_buf())
    }

    fn conf(&self) -> PathBuf {
        self.0.join("slurm.conf")
    }

    /// batch.sh over `inputs` into `out` as a job array of `count` tasks (with `extra`
    /// arguments to sbatch), waited for: the job's number.
    fn array(&self, inputs: &Path, out: &Path, count: usize, extra: &[&str]) -> String {
        let submitted = Command::new("sbatch")
            .env("SLURM_CONF", self.conf())
            .env("GST_PLUGIN_PATH", plugin_dir())
            .arg("--parsable")
            .arg(format!("--array=0-{}", count - 1))
            .arg(format!("--output={}/task-%a.log", self.0.display()))
            .args(extra)
            .arg("--wrap")
            .arg(format!(
                "{} anonymize {} {}",
                root().join("pipelines/batch.sh").display(),
                inputs.display(),
                out.display()
            ))
            .output()
            .expect("sbatch runs (scripts/deps.sh test installs Slurm)");
        let job = String::from_utf8_lossy(&submitted.stdout)
            .trim()
            .to_string();
        assert!(!job.is_empty(), "sbatch: {submitted:?}");
        // squeue, not `sbatch --wait`, whose polling backs off to many seconds.
        let started = Instant::now();
        loop {
            let queued = Command::new("squeue")
                .env("SLURM_CONF", self.conf())
                .args(["-h", "-j", &job])
                .output()
                .unwrap();
            if queued.stdout.is_empty() {
                break;
            }
            assert!(started.elapsed().as_secs() < 300, "job {job} never ended");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        job
    }

    /// The tasks of array job `job` as the controller recorded them: (node, exit code, start,
    /// end in seconds of the day).
    fn tasks(&self, job: &str) -> Vec<(String, String, u64, u64)> {
        let field = |l: &str, k: &str| {
            l.split_whitespace()
                .find_map(|f| f.strip_prefix(k))
                .unwrap_or("")
                .to_string()
        };
        let secs = |t: String| {
            let hms = t.rsplit('T').next().unwrap_or("0:0:0").to_string();
            hms.split(':')
                .fold(0, |a, v| a * 60 + v.parse::<u64>().unwrap_or(0))
        };
        std::fs::read_to_string(self.0.join("jobcomp.txt"))
            .unwrap_or_default()
            .lines()
            .filter(|l| field(l, "ArrayJobId=") == job)
            .map(|l| {
                (
                    field(l, "NodeList="),
                    field(l, "ExitCode="),
                    secs(field(l, "StartTime=")),
                    secs(field(l, "EndTime=")),
                )
            })
            .collect()
    }
}

/// From the first task's start to the last one's end, in seconds.
fn makespan(tasks: &[(String, String, u64, u64)]) -> u64 {
    let start = tasks.iter().map(|t| t.2).min().unwrap_or(0);
    tasks.iter().map(|t| t.3).max().unwrap_or(0) - start
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(root().join("scripts/slurm-local.sh"))
            .arg("stop")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn a_job_array_runs_a_batch_across_two_slurm_nodes() {
    let dir = work_dir("slurm");
    let inputs = dir.join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    for k in 0..6 {
        let clip = inputs.join(format!("clip{k}.mp4"));
        if !clip.is_file() {
            sh(Command::new(root().join("scripts/make-clip.sh"))
                .arg(&clip)
                .args(["640x360", "3", "audio"]));
        }
    }
    std::fs::write(inputs.join("clip6.mp4"), "a broken clip\n").unwrap();
    let cluster = Cluster::start(&dir.join("cluster"));

    // On both nodes.
    let out = dir.join("out");
    let _ = std::fs::remove_dir_all(&out);
    let job = cluster.array(&inputs, &out, 7, &[]);
    let tasks = cluster.tasks(&job);
    assert_eq!(tasks.len(), 7, "every task recorded: {tasks:?}");
    for node in ["n1", "n2"] {
        assert!(
            tasks.iter().any(|t| t.0 == node),
            "{node} ran none: {tasks:?}"
        );
    }
    assert_eq!(
        tasks.iter().filter(|t| t.1 != "0:0").count(),
        1,
        "the broken clip's task failed, the others did not: {tasks:?}"
    );
    let (code, rows) = mediaai_pipelines::gather_batch(&out);
    assert_eq!(code, 1, "the job fails for the broken clip");
    assert_eq!(rows.len(), 7, "every input once: {rows:?}");
    for (name, status, fin, fout) in &rows[..6] {
        assert_eq!((status.as_str(), fin.as_str()), ("done", "75"), "{name}");
        assert_eq!(fin, fout, "{name}: frames in = out");
    }
    assert_eq!(rows[6].1, "failed");

    // The same six clips on one node: how the two compare (both nodes share this host's
    // cores, so the figure shows the scheduling, not a second machine's power).
    let one = dir.join("out-one-node");
    let _ = std::fs::remove_dir_all(&one);
    let one_job = cluster.array(&inputs, &one, 6, &["--nodelist=n1"]);
    let one_tasks = cluster.tasks(&one_job);
    assert!(one_tasks.iter().all(|t| t.0 == "n1"), "{one_tasks:?}");
    // Written past the test harness's capture, so that CI's log shows it.
    let (two, one) = (makespan(&tasks), makespan(&one_tasks));
    let _ = writeln!(
        std::io::stderr(),
        "slurm: 6 good clips of 3 s at 640x360 (+1 broken): two nodes {two} s from the first task's start to the last one's end, one node {one} s ({:.2}x)",
        two as f64 / one.max(1) as f64
    );

    // A task cancelled mid-file: no output, reported missing, the others done.
    let cancelled = dir.join("out-cancelled");
    let _ = std::fs::remove_dir_all(&cancelled);
    let submit = Command::new("sbatch")
        .env("SLURM_CONF", cluster.conf())
        .env("GST_PLUGIN_PATH", plugin_dir())
        .args(["--parsable", "--array=0-1"])
        .arg(format!("--output={}/cancel-%a.log", dir.display()))
        .arg("--wrap")
        .arg(format!(
            "{} anonymize {} {}",
            root().join("pipelines/batch.sh").display(),
            inputs.display(),
            cancelled.display()
        ))
        .output()
        .unwrap();
    let job = String::from_utf8_lossy(&submit.stdout).trim().to_string();
    let part = cancelled.join(".clip0.mp4.part");
    let started = Instant::now();
    while !part.exists() {
        assert!(
            started.elapsed().as_secs() < 60,
            "task 0 never started writing"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    sh(Command::new("scancel")
        .env("SLURM_CONF", cluster.conf())
        .arg(format!("{job}_0")));
    let started = Instant::now();
    while !cancelled.join(".batch/done/1.csv").exists() {
        assert!(started.elapsed().as_secs() < 60, "task 1 never finished");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        !cancelled.join("clip0.mp4").exists(),
        "a cancelled task's output looks done"
    );
    // scancel kills a batch task outright (SIGKILL): its temporary file stays until the
    // gathering step, which removes it and reports the file missing.
    let (code, rows) = mediaai_pipelines::gather_batch(&cancelled);
    assert_eq!(code, 1);
    assert_eq!(rows[0].1, "missing");
    assert_eq!(rows[1].1, "done");
    assert!(!part.exists(), "its temporary file is left after gathering");
}
