//! The runtime image the Kubernetes manifests name (deploy/Containerfile), built and run with
//! podman as `deploy/image.sh` does: from a Debian 12 base made with debootstrap (no image
//! registry is reachable here), with the library this suite tested staged by `meson install`.
//! In the image, `gst-inspect-1.0` finds the elements in the installed plugin, and
//! `pipelines/anonymize.sh` anonymises a clip on a mounted folder: every frame out, no face
//! left. The image is removed afterwards (the base is kept for the next run).

use std::process::{Command, Output};

use mediaai_pipelines::{frames_with_faces, plugin_dir, root, sh, streams, work_dir, PLUGIN};

const TAG: &str = "localhost/gst-media-ai-test";

/// This host runs containers inside a container: runc, and limits it may set (its own).
fn podman_opts() -> String {
    let nofile = String::from_utf8(sh(Command::new("sh").args(["-c", "ulimit -n"])).stdout)
        .unwrap()
        .trim()
        .to_string();
    format!("--runtime runc --ulimit nofile={nofile} --ulimit nproc=4096")
}

fn image(args: &[&str]) -> Output {
    sh(Command::new(root().join("deploy/image.sh"))
        .env("PODMAN_OPTS", podman_opts())
        .env("BASE", "debootstrap")
        .env("PLUGIN", plugin_dir().join(PLUGIN))
        .args(args))
}

/// Removes the test's image when dropped, a failing assertion included.
struct Image;

impl Drop for Image {
    fn drop(&mut self) {
        let _ = Command::new("podman")
            .args(["image", "rm", "-f", TAG])
            .output();
    }
}

#[test]
fn the_image_runs_the_elements_and_anonymises_a_clip() {
    let dir = work_dir("container");
    let _image = Image;
    image(&["build", TAG]);

    let inspect = image(&["run", TAG, "gst-inspect-1.0", "onnxfacedetect"]);
    let text = String::from_utf8_lossy(&inspect.stdout);
    assert!(
        text.contains("ONNX face detector")
            && text
                .contains("/opt/gst-media-ai/lib/x86_64-linux-gnu/gstreamer-1.0/libgstmediaai.so"),
        "gst-inspect-1.0 in the image:\n{text}"
    );

    let clip = dir.join("clip.mp4");
    let _ = std::fs::remove_file(dir.join("anonymized.mp4"));
    sh(Command::new(root().join("scripts/make-clip.sh"))
        .arg(&clip)
        .args(["640x360", "2"]));
    let volume = format!("{}:/media", dir.canonicalize().unwrap().display());
    let run = image(&[
        "run",
        "-v",
        &volume,
        TAG,
        "/opt/gst-media-ai/pipelines/anonymize.sh",
        "/media/clip.mp4",
        "/media/anonymized.mp4",
    ]);
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        !printed.to_lowercase().contains("error") && !printed.contains("WARN"),
        "a normal run in the image prints no error or warning:\n{printed}"
    );
    let result = dir.join("anonymized.mp4");
    let frames = |f| streams(f).into_iter().find(|s| s.0 == "video").map(|s| s.1);
    assert_eq!(frames(&result), frames(&clip), "video frames in and out");
    assert!(frames_with_faces(&clip) >= 45, "the clip shows a face");
    assert_eq!(
        frames_with_faces(&result),
        0,
        "faces left after the image's anonymisation"
    );
}
