/**
 * element-wgpudownload:
 *
 * Ends a run of GPU elements: frames on the GPU (`memory:WgpuBuffer`) leave as system-memory
 * video, read back once here (one readback per frame) rather than by whichever element maps
 * them next. The buffer is passed on as it is; its bytes are current in host memory.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc ! wgpuupload ! gpublur region=frame ! wgpudownload ! videoconvert ! autovideosink
 * ]|
 */
use std::sync::LazyLock;

use gst::glib;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;

use mediaai_common::gpumemory;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "wgpudownload",
        gst::DebugColorFlags::empty(),
        Some("GPU video back to system memory"),
    )
});

#[derive(Default)]
pub struct WgpuDownload;

#[glib::object_subclass]
impl ObjectSubclass for WgpuDownload {
    const NAME: &'static str = "GstWgpuDownload";
    type Type = super::WgpuDownload;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for WgpuDownload {}
impl GstObjectImpl for WgpuDownload {}

impl ElementImpl for WgpuDownload {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            mediaai_common::element_metadata(
                "Download from the GPU (wgpu)",
                "Filter/Video",
                "Reads GPU video frames (memory:WgpuBuffer) back to system memory, one readback per frame",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let any_format = gst::Caps::builder("video/x-raw").build();
            mediaai_common::templates::src_and_sink(
                &any_format,
                &gpumemory::gpu_and_system(&any_format),
            )
        });
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for WgpuDownload {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = true;

    fn transform_caps(
        &self,
        direction: gst::PadDirection,
        caps: &gst::Caps,
        filter: Option<&gst::Caps>,
    ) -> Option<gst::Caps> {
        let out = match direction {
            // Upstream of the download: either memory; downstream: system memory.
            gst::PadDirection::Src => gpumemory::gpu_and_system(caps),
            _ => gpumemory::in_memory(caps, false),
        };
        Some(mediaai_common::templates::filtered(out, filter))
    }

    fn set_caps(
        &self,
        _incaps: &gst::Caps,
        _outcaps: &gst::Caps,
    ) -> Result<(), gst::LoggableError> {
        // Buffers go on as they came (no copy): the readback happens in place.
        self.obj().set_passthrough(true);
        Ok(())
    }

    fn transform_ip_passthrough(
        &self,
        buf: &gst::Buffer,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        if gpumemory::buffer_gpu_frame(buf).is_some() {
            // The map reads the frame back into its host copy, which later maps reuse.
            buf.map_readable().map_err(|_| {
                gst::element_imp_error!(
                    self,
                    gst::ResourceError::Read,
                    ["cannot read the GPU frame back"]
                );
                gst::FlowError::Error
            })?;
            gst::trace!(CAT, imp = self, "read back {:?}", buf.pts());
        }
        Ok(gst::FlowSuccess::Ok)
    }
}
