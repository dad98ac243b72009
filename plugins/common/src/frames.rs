//! Mapping a buffer as its caps say, with the element error a broken upstream gets when the
//! buffer is smaller than its caps: one wording for every element.

/// Posts "buffer too small for its caps" from `element` (a stream format error: upstream sent
/// less than its caps promise); the flow error to return.
pub fn too_small(element: &gst::Element) -> gst::FlowError {
    gst::element_error!(
        element,
        gst::StreamError::Format,
        ["buffer too small for its caps"]
    );
    gst::FlowError::Error
}

/// `buf` mapped readable as `info` lays it out, or [`too_small`].
pub fn readable<'a>(
    element: &gst::Element,
    buf: &'a gst::BufferRef,
    info: &gst_video::VideoInfo,
) -> Result<gst_video::VideoFrameRef<&'a gst::BufferRef>, gst::FlowError> {
    gst_video::VideoFrameRef::from_buffer_ref_readable(buf, info).map_err(|_| too_small(element))
}

/// `buf` mapped writable as `info` lays it out, or [`too_small`].
pub fn writable<'a>(
    element: &gst::Element,
    buf: &'a mut gst::BufferRef,
    info: &gst_video::VideoInfo,
) -> Result<gst_video::VideoFrameRef<&'a mut gst::BufferRef>, gst::FlowError> {
    gst_video::VideoFrameRef::from_buffer_ref_writable(buf, info).map_err(|_| too_small(element))
}
