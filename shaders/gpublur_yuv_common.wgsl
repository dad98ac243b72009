// Declarations of gpublur's two YUV passes, after frame_planes.wgsl and gpublur_common.wgsl:
// where the frame's planes lie in the uploaded buffer (`frame_bytes`), and the luma rows
// unpacked (read0..read1) and packed back (write0..write1). Plane offsets and strides are
// multiples of 4 bytes.

struct Planes {
    frame: FramePlanes,
    read0: u32,
    read1: u32,
    write0: u32,
    write1: u32,
}
