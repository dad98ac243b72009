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

/// Each plane's row width in bytes and its rows, without stride padding (the rest zero):
/// how a planar frame (one component per plane, as I420) lies in a tensor, planes one after
/// another.
fn plane_rows(info: &gst_video::VideoInfo) -> [(usize, usize); 4] {
    std::array::from_fn(|p| match p < info.n_planes() as usize {
        true => (
            info.comp_width(p as u8) as usize * info.comp_pstride(p as u8) as usize,
            info.comp_height(p as u8) as usize,
        ),
        false => (0, 0),
    })
}

/// `frame`'s planes into `dst` without their stride padding, one after another (see
/// [`plane_rows`]); rows over the thread pool. Stops where `dst` ends.
pub fn copy_planes(frame: &gst_video::VideoFrameRef<&gst::BufferRef>, dst: &mut [u8]) {
    use gst_video::prelude::*;
    use rayon::prelude::*;
    let mut dst = dst;
    for (p, (row, rows)) in plane_rows(frame.info()).into_iter().enumerate() {
        let stride = frame.plane_stride().get(p).map_or(0, |&s| s as usize);
        let (Ok(src), true) = (
            frame.plane_data(p as u32),
            row > 0 && dst.len() >= row * rows,
        ) else {
            return;
        };
        let (plane, rest) = std::mem::take(&mut dst).split_at_mut(row * rows);
        plane
            .par_chunks_mut(row)
            .zip(src.par_chunks(stride))
            .for_each(|(d, s)| d.copy_from_slice(&s[..row]));
        dst = rest;
    }
}

/// The reverse of [`copy_planes`]: `src`'s planes, laid out without stride padding, into
/// `frame`.
pub fn copy_planes_into(src: &[u8], frame: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>) {
    use gst_video::prelude::*;
    use rayon::prelude::*;
    let planes = plane_rows(frame.info());
    let mut src = src;
    for (p, (row, rows)) in planes.into_iter().enumerate() {
        let stride = frame.plane_stride().get(p).map_or(0, |&s| s as usize);
        let (Ok(dst), true) = (
            frame.plane_data_mut(p as u32),
            row > 0 && src.len() >= row * rows,
        ) else {
            return;
        };
        let (plane, rest) = src.split_at(row * rows);
        dst.par_chunks_mut(stride)
            .zip(plane.par_chunks(row))
            .for_each(|(d, s)| d[..row].copy_from_slice(s));
        src = rest;
    }
}
