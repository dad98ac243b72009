//! The Kubernetes manifests in deploy/kubernetes, checked statically against the API's schemas
//! (PyPI `kubernetes-validate`, strict: no unknown field), and the Indexed Job's index reaching
//! pipelines/batch.sh (JOB_COMPLETION_INDEX runs that file). No cluster can be installed from
//! the registries this project draws on; the manifests are checked, not run.

use std::process::Command;

use mediaai_pipelines::{plugin_dir, root, sh, work_dir};

#[test]
fn the_manifests_are_valid_kubernetes_objects() {
    let validate = root().join(".deps/k8s-venv/bin/kubernetes-validate");
    assert!(
        validate.is_file(),
        "run `scripts/deps.sh test` (make test does)"
    );
    let manifests: Vec<_> = std::fs::read_dir(root().join("deploy/kubernetes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    assert!(manifests.len() >= 2, "{manifests:?}");
    let out = Command::new(&validate)
        .args(["--strict", "-k", "1.30.0"])
        .args(&manifests)
        .output()
        .unwrap();
    let said = mediaai_pipelines::printed(&out);
    assert!(out.status.success(), "{said}");
    for kind in [
        "job/anonymize-batch ",
        "job/anonymize-batch-gather ",
        "deployment/channel-1 ",
    ] {
        assert!(
            said.contains(&format!("passed for resource {kind}")),
            "{kind}: {said}"
        );
    }
    // A broken manifest is refused (the checker can fail).
    let broken = work_dir("kubernetes").join("broken.yaml");
    let job = std::fs::read_to_string(root().join("deploy/kubernetes/batch-job.yaml")).unwrap();
    std::fs::write(
        &broken,
        job.replacen("completionMode:", "completionMod:", 1),
    )
    .unwrap();
    let out = Command::new(&validate)
        .args(["--strict", "-k", "1.30.0"])
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a misspelt field passes");
}

/// The Indexed Job's completion index is the file batch.sh runs.
#[test]
fn an_indexed_job_pod_runs_its_file() {
    let dir = work_dir("kubernetes");
    let clip = dir.join("clip.mp4");
    sh(Command::new(root().join("scripts/make-clip.sh"))
        .arg(&clip)
        .args(["320x240", "1", "noaudio"]));
    let list = dir.join("list.txt");
    std::fs::write(
        &list,
        format!("/nonexistent/first.mp4\n{}\n", clip.display()),
    )
    .unwrap();
    let out = dir.join("done");
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new(root().join("pipelines/batch.sh"))
        .args(["anonymize".as_ref(), list.as_os_str(), out.as_os_str()])
        .env("JOB_COMPLETION_INDEX", "1")
        .env("GST_PLUGIN_PATH", plugin_dir())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(out.join("clip.mp4").is_file() && !out.join("first.mp4").exists());
}
