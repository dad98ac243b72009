//! A wgpu validation error on the shared device comes back as `Err` from `checked` instead of
//! wgpu's default panic, which would take a streaming thread down.

#[test]
fn validation_errors_are_returned_not_panicked() {
    let ctx = mediaai_testing::gpu();
    let small = ctx.create_buffer("small", 16, wgpu::BufferUsages::COPY_SRC);
    let other = ctx.create_buffer("other", 16, wgpu::BufferUsages::COPY_DST);
    let err = ctx
        .checked(|| {
            // Copying past the end of both buffers is invalid.
            let mut enc = ctx.device.create_command_encoder(&Default::default());
            enc.copy_buffer_to_buffer(&small, 0, &other, 0, 64);
            ctx.queue.submit(Some(enc.finish()));
            Ok(())
        })
        .expect_err("the copy is refused");
    assert!(err.starts_with("GPU error"), "{err}");
    // The device stays usable and a valid submission is not blamed for the earlier error.
    ctx.checked(|| {
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(&small, 0, &other, 0, 16);
        ctx.queue.submit(Some(enc.finish()));
        Ok(())
    })
    .expect("a valid copy goes through");
}
