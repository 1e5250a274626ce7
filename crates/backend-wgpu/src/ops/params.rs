//! Test support: a Rust params struct against its WGSL declaration, field by field.

use crate::pipeline::Shader;

/// What [`params!`] records about a params struct.
pub(crate) trait Described {
    const NAME: &'static str;
    /// `(name, byte offset, byte size)` per field, in declaration order.
    fn fields() -> Vec<(&'static str, usize, usize)>;
}

/// Parses `shader` (with its generated parts) with naga, finds the struct named
/// `T::NAME`, and asserts that its members have the Rust fields' names, offsets
/// and sizes, and that both round up to the same 16-byte uniform block.
pub(crate) fn check_against_wgsl<T: Described>(shader: &Shader) {
    let source = shader.source();
    let module = naga::front::wgsl::parse_str(&source)
        .unwrap_or_else(|e| panic!("{}: {}", shader.name, e.emit_to_string(&source)));
    let mut layouter = naga::proc::Layouter::default();
    layouter
        .update(module.to_ctx())
        .unwrap_or_else(|e| panic!("{}: layout: {e}", shader.name));
    let ty = module
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some(T::NAME))
        .map(|(_, t)| t)
        .unwrap_or_else(|| {
            panic!(
                "shaders/{}.wgsl declares no struct {}",
                shader.name,
                T::NAME
            )
        });
    let naga::TypeInner::Struct { members, span } = &ty.inner else {
        panic!(
            "{} is not a struct in shaders/{}.wgsl",
            T::NAME,
            shader.name
        );
    };
    let wgsl: Vec<(String, usize, usize)> = members
        .iter()
        .map(|m| {
            (
                m.name.clone().unwrap_or_default(),
                m.offset as usize,
                layouter[m.ty].size as usize,
            )
        })
        .collect();
    let rust: Vec<(String, usize, usize)> = T::fields()
        .into_iter()
        .map(|(n, o, s)| (n.to_string(), o, s))
        .collect();
    assert_eq!(
        wgsl,
        rust,
        "{} (name, offset, size): WGSL (shaders/{}.wgsl) left, Rust right",
        T::NAME,
        shader.name
    );
    let round16 = |n: usize| n.div_ceil(16) * 16;
    assert_eq!(
        round16(*span as usize),
        round16(size_of::<T>()),
        "{}: uniform block size",
        T::NAME
    );
}
