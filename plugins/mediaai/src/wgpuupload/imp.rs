/**
 * element-wgpuupload:
 *
 * Puts raw video frames into GPU buffers of the collection's shared device
 * (`video/x-raw(memory:WgpuBuffer)`), one upload per frame, so that the GPU elements after it
 * (`gpublur`, `qcfingerprint`, ...) work on them where they lie. Frames already on the GPU pass
 * through. Any element may still map such a frame: it is read back on map.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc ! wgpuupload ! gpublur region=frame ! qcfingerprint ! wgpudownload ! videoconvert ! autovideosink
 * ]|
 */
use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;

use mediaai_common::gpumemory;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "wgpuupload",
        gst::DebugColorFlags::empty(),
        Some("System-memory video onto the GPU"),
    )
});

/// Buffers the pool keeps ready: one being filled, one on its way, one spare.
const POOL_MIN: u32 = 3;

#[derive(Default)]
pub struct WgpuUpload {
    info: Mutex<Option<gst_video::VideoInfo>>,
}

#[glib::object_subclass]
impl ObjectSubclass for WgpuUpload {
    const NAME: &'static str = "GstWgpuUpload";
    type Type = super::WgpuUpload;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for WgpuUpload {}
impl GstObjectImpl for WgpuUpload {}

impl ElementImpl for WgpuUpload {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            mediaai_common::element_metadata(
                "Upload to the GPU (wgpu)",
                "Filter/Video",
                "Copies raw video frames into GPU buffers of the collection's shared device (memory:WgpuBuffer), one upload per frame",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let any_format = gst::Caps::builder("video/x-raw").build();
            mediaai_common::templates::src_and_sink(
                &gpumemory::in_memory(&any_format, true),
                &gpumemory::gpu_and_system(&any_format),
            )
        });
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for WgpuUpload {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::NeverInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = true;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn transform_caps(
        &self,
        direction: gst::PadDirection,
        caps: &gst::Caps,
        filter: Option<&gst::Caps>,
    ) -> Option<gst::Caps> {
        let out = match direction {
            // Downstream of the upload is always the GPU.
            gst::PadDirection::Sink => gpumemory::in_memory(caps, true),
            _ => gpumemory::gpu_and_system(caps),
        };
        Some(mediaai_common::templates::filtered(out, filter))
    }

    fn set_caps(&self, incaps: &gst::Caps, outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let info = gst_video::VideoInfo::from_caps(incaps)
            .map_err(|_| gst::loggable_error!(CAT, "invalid video caps {incaps}"))?;
        if let Err(e) = mediaai_common::gpu::context() {
            gst::element_imp_error!(
                self,
                gst::ResourceError::NotFound,
                ["no GPU to upload to: {e}; remove wgpuupload to stay in system memory"]
            );
            return Err(gst::loggable_error!(CAT, "no GPU"));
        }
        gst::debug!(CAT, imp = self, "uploading {incaps} as {outcaps}");
        *self.info.lock().expect("info lock") = Some(info);
        Ok(())
    }

    fn decide_allocation(
        &self,
        query: &mut gst::query::Allocation,
    ) -> Result<(), gst::LoggableError> {
        // Whatever downstream offered, output frames come from GPU buffers of the shared
        // device, recycled by the pool.
        let (caps, _) = query.get_owned();
        let caps = caps.ok_or_else(|| gst::loggable_error!(CAT, "allocation without caps"))?;
        let info = gst_video::VideoInfo::from_caps(&caps)
            .map_err(|_| gst::loggable_error!(CAT, "invalid video caps {caps}"))?;
        let pool = gpumemory::video_pool(&caps, info.size(), POOL_MIN, 0)
            .map_err(|e| gst::loggable_error!(CAT, "GPU buffer pool: {e}"))?;
        while query.allocation_pools().len() > 0 {
            query.remove_nth_allocation_pool(0);
        }
        while query.allocation_params().len() > 0 {
            query.remove_nth_allocation_param(0);
        }
        query.add_allocation_pool(Some(&pool), info.size() as u32, POOL_MIN, 0);
        query.add_allocation_param(
            Some(gpumemory::GpuAllocator::get().upcast_ref::<gst::Allocator>()),
            gst::AllocationParams::default(),
        );
        Ok(())
    }

    fn transform(
        &self,
        inbuf: &gst::Buffer,
        outbuf: &mut gst::BufferRef,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let Some(frame) = gpumemory::buffer_gpu_frame(outbuf) else {
            gst::element_imp_error!(
                self,
                gst::CoreError::Negotiation,
                ["output buffer is not GPU memory"]
            );
            return Err(gst::FlowError::Error);
        };
        let ctx = mediaai_common::gpu::context().map_err(|_| gst::FlowError::Error)?;
        let info = self
            .info
            .lock()
            .expect("info lock")
            .clone()
            .ok_or(gst::FlowError::NotNegotiated)?;
        let as_caps = gpumemory::lies_as_caps(inbuf, &info);
        let unreadable = || {
            gst::element_imp_error!(
                self,
                gst::StreamError::Format,
                ["input buffer smaller than its caps, or not readable"]
            );
            gst::FlowError::Error
        };
        if as_caps {
            let map = inbuf.map_readable().map_err(|_| unreadable())?;
            if map.size() < info.size() {
                return Err(unreadable());
            }
            frame.upload(ctx, map.as_slice());
        } else {
            // Planes placed otherwise (a video meta): copied plane by plane into the frame's
            // host copy, which goes up when the next GPU element uses it.
            let src = gst_video::VideoFrameRef::from_buffer_ref_readable(inbuf.as_ref(), &info)
                .map_err(|_| unreadable())?;
            gpumemory::overwrite_on_host(outbuf);
            let mut dst = gst_video::VideoFrameRef::from_buffer_ref_writable(outbuf, &info)
                .map_err(|_| unreadable())?;
            src.copy(&mut dst).map_err(|_| unreadable())?;
        }
        Ok(gst::FlowSuccess::Ok)
    }
}
