//! Packed RGB input: converted to planar Y'CbCr 4:4:4 on arrival, restored like planar
//! input, and converted back into the output buffer.

use super::*;

/// Packed RGB input: each frame is converted to planar Y'CbCr 4:4:4 on arrival, restored
/// like planar input, and converted back into the output buffer.
pub(super) struct Packed {
    pub(super) layout: PackedLayout,
    pub(super) matrix: YuvMatrix,
    /// Planar frames, for the held input frames and each output frame before packing.
    pub(super) pool: gst::BufferPool,
    /// The planar output frame (progressive).
    pub(super) out_info: gst_video::VideoInfo,
}

/// A packed RGB input frame as a planar 4:4:4 frame from the packed pool, with the input's
/// timestamps, flags and metas; an element error from `element` when the input is smaller
/// than its caps (a flushing pool's answer passes as it is).
pub(super) fn unpack(
    element: &gst::Element,
    p: &Packed,
    inbuf: &gst::Buffer,
    in_info: &gst_video::VideoInfo,
    work_info: &gst_video::VideoInfo,
) -> Result<gst::Buffer, gst::FlowError> {
    let mut out = p.pool.acquire_buffer(None)?;
    {
        let src = frames::readable(element, inbuf.as_ref(), in_info)?;
        let o = out.get_mut().expect("a pooled buffer is writable");
        let _ = inbuf.copy_into(
            o,
            gst::BufferCopyFlags::FLAGS
                | gst::BufferCopyFlags::TIMESTAMPS
                | gst::BufferCopyFlags::META,
            ..,
        );
        let mut dst = gst_video::VideoFrameRef::from_buffer_ref_writable(o, work_info)
            .map_err(|_| gst::FlowError::Error)?;
        let (w, s_stride) = (in_info.width() as usize, src.plane_stride()[0] as usize);
        let strides: [usize; 3] = std::array::from_fn(|i| dst.plane_stride()[i] as usize);
        let data = src.plane_data(0).map_err(|_| gst::FlowError::Error)?;
        let [y, u, v, _] = dst.planes_data_mut();
        y.par_chunks_mut(strides[0])
            .zip(u.par_chunks_mut(strides[1]))
            .zip(v.par_chunks_mut(strides[2]))
            .zip(data.par_chunks(s_stride))
            .for_each(|(((y, u), v), row)| {
                let row = &row[..(w * p.layout.pixel_stride).min(row.len())];
                p.matrix
                    .unpack_row(p.layout, row, &mut y[..w], &mut u[..w], &mut v[..w]);
            });
    }
    Ok(out)
}

/// The restored planar frame `planar` packed into `out`.
pub(super) fn pack(
    element: &gst::Element,
    p: &Packed,
    planar: &gst::Buffer,
    planar_info: &gst_video::VideoInfo,
    out: &mut gst::Buffer,
    out_info: &gst_video::VideoInfo,
) -> Result<(), gst::FlowError> {
    let src = frames::readable(element, planar.as_ref(), planar_info)?;
    let o = out.get_mut().expect("a pooled buffer is writable");
    gpumemory::overwrite_on_host(o);
    let mut dst = gst_video::VideoFrameRef::from_buffer_ref_writable(o, out_info)
        .map_err(|_| gst::FlowError::Error)?;
    let w = out_info.width() as usize;
    let stride = dst.plane_stride()[0] as usize;
    let (y, u, v) = (plane(&src, 0), plane(&src, 1), plane(&src, 2));
    let data = dst.plane_data_mut(0).map_err(|_| gst::FlowError::Error)?;
    data.par_chunks_mut(stride)
        .enumerate()
        .for_each(|(row, d)| {
            if row < y.height {
                let d = &mut d[..w * p.layout.pixel_stride];
                p.matrix
                    .pack_row(p.layout, y.row(row), u.row(row), v.row(row), d);
            }
        });
    Ok(())
}
