//! The `conv_pool` binary prints SEEDS.md section 4's worked example, computed by the
//! framework, and draws it into a PNG on request.
//!
//! Every expected number below is either from SEEDS.md or worked out by hand here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn conv_pool() -> Command {
    Command::new(env!("CARGO_BIN_EXE_conv_pool"))
}

fn run(args: &[&str]) -> Output {
    conv_pool().args(args).output().unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("conv_pool_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The `rows` lines after the line `title`, as numbers.
fn table(stdout: &str, title: &str, rows: usize) -> Vec<Vec<f32>> {
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == title)
        .unwrap_or_else(|| panic!("no table {title:?} in:\n{stdout}"));
    lines[at + 1..at + 1 + rows]
        .iter()
        .map(|l| {
            l.split_whitespace()
                .map(|v| v.parse().unwrap_or_else(|e| panic!("{v:?} in {l:?}: {e}")))
                .collect()
        })
        .collect()
}

fn assert_table(stdout: &str, title: &str, expected: &[&[f32]]) {
    let got = table(stdout, title, expected.len());
    for (r, (g, e)) in got.iter().zip(expected).enumerate() {
        assert_eq!(
            g.len(),
            e.len(),
            "{title}: row {r} is {g:?}, expected {e:?}"
        );
        for (c, (a, b)) in g.iter().zip(e.iter()).enumerate() {
            assert!(
                (a - b).abs() < 1e-4,
                "{title}: ({r}, {c}) is {a}, expected {b}\n{stdout}"
            );
        }
    }
}

/// Runs the binary on `backend` and checks every printed map.
fn check_example(backend: &str) {
    let out = run(&["--backend", backend]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );

    assert_table(
        &stdout,
        "input image (6x6)",
        &[
            &[1., 0., 0., 0., 0., 1.],
            &[0., 1., 0., 0., 1., 0.],
            &[0., 0., 1., 1., 0., 0.],
            &[1., 0., 0., 0., 1., 0.],
            &[0., 1., 0., 0., 1., 0.],
            &[0., 0., 1., 0., 1., 0.],
        ],
    );
    assert_table(
        &stdout,
        "filter (3x3)",
        &[&[1., -1., -1.], &[-1., 1., -1.], &[-1., -1., 1.]],
    );

    // SEEDS.md section 4, verbatim.
    let valid: [&[f32]; 4] = [
        &[3., -1., -3., -1.],
        &[-3., 1., 0., -3.],
        &[-3., -3., 0., 1.],
        &[3., -2., -2., -1.],
    ];
    assert_table(&stdout, "conv2d VALID, stride 1 (4x4)", &valid);
    assert_table(
        &stdout,
        "max_pool2d 2x2, stride 2, of the VALID output (2x2)",
        &[&[3., 0.], &[3., 1.]],
    );

    // SAME pads one zero row/column on every side (total pad 3 - 1 = 2, split 1 + 1), so
    // SAME(i + 1, j + 1) = VALID(i, j) inside, and the border is worked out by hand. The
    // filter F rows are F0 = [1, -1, -1], F1 = [-1, 1, -1], F2 = [-1, -1, 1]; image rows
    // X0 = [1,0,0,0,0,1], X1 = [0,1,0,0,1,0], X4 = [0,1,0,0,1,0], X5 = [0,0,1,0,1,0].
    //
    // Top row (window rows -1, 0, 1; row -1 is padding): SAME(0, j) = X0[j-1..=j+1].F1 +
    // X1[j-1..=j+1].F2, with x = padding = 0:
    //   j=0: (x,1,0).F1 = 1,   (x,0,1).F2 = 1    ->  2
    //   j=1: (1,0,0).F1 = -1,  (0,1,0).F2 = -1   -> -2
    //   j=2: (0,0,0).F1 = 0,   (1,0,0).F2 = -1   -> -1
    //   j=3: (0,0,0).F1 = 0,   (0,0,1).F2 = 1    ->  1
    //   j=4: (0,0,1).F1 = -1,  (0,1,0).F2 = -1   -> -2
    //   j=5: (0,1,x).F1 = 1,   (1,0,x).F2 = -1   ->  0
    // Bottom row (window rows 4, 5, 6; row 6 is padding): X4[..].F0 + X5[..].F1:
    //   j=0: (x,0,1).F0 = -1,  (x,0,0).F1 = 0    -> -1
    //   j=1: (0,1,0).F0 = -1,  (0,0,1).F1 = -1   -> -2
    //   j=2: (1,0,0).F0 = 1,   (0,1,0).F1 = 1    ->  2
    //   j=3: (0,0,1).F0 = -1,  (1,0,1).F1 = -2   -> -3
    //   j=4: (0,1,0).F0 = -1,  (0,1,0).F1 = 1    ->  0
    //   j=5: (1,0,x).F0 = 1,   (1,0,x).F1 = -1   ->  0
    // Left column, rows 1-4 (column -1 is padding): image columns C0 = [1,0,0,1,0,0] and
    // C1 = [0,1,0,0,1,0] against filter columns G1 = [-1,1,-1] and G2 = [-1,-1,1]:
    //   i=1: C0[0..3]=(1,0,0).G1 = -1, C1[0..3]=(0,1,0).G2 = -1 -> -2
    //   i=2: (0,0,1).G1 = -1,          (1,0,0).G2 = -1          -> -2
    //   i=3: (0,1,0).G1 = 1,           (0,0,1).G2 = 1           ->  2
    //   i=4: (1,0,0).G1 = -1,          (0,1,0).G2 = -1          -> -2
    // Right column, rows 1-4 (column 6 is padding): C4 = [0,1,0,1,1,1], C5 = [1,0,0,0,0,0]
    // against G0 = [1,-1,-1] and G1:
    //   i=1: (0,1,0).G0 = -1, (1,0,0).G1 = -1 -> -2
    //   i=2: (1,0,1).G0 = 0,  (0,0,0).G1 = 0  ->  0
    //   i=3: (0,1,1).G0 = -2, (0,0,0).G1 = 0  -> -2
    //   i=4: (1,1,1).G0 = -1, (0,0,0).G1 = 0  -> -1
    let same: [&[f32]; 6] = [
        &[2., -2., -1., 1., -2., 0.],
        &[-2., 3., -1., -3., -1., -2.],
        &[-2., -3., 1., 0., -3., 0.],
        &[2., -3., -3., 0., 1., -2.],
        &[-2., 3., -2., -2., -1., -1.],
        &[-1., -2., 2., -3., 0., 0.],
    ];
    for i in 0..4 {
        assert_eq!(same[i + 1][1..5], *valid[i], "inner SAME row {i} is VALID");
    }
    assert_table(&stdout, "conv2d SAME, stride 1 (6x6)", &same);

    // Means of the 2x2 blocks of VALID: (3 - 1 - 3 + 1)/4 = 0, (-3 - 1 + 0 - 3)/4 = -1.75,
    // (-3 - 3 + 3 - 2)/4 = -1.25, (0 + 1 - 2 - 1)/4 = -0.5.
    assert_table(
        &stdout,
        "avg_pool2d 2x2, stride 2, of the VALID output (2x2)",
        &[&[0., -1.75], &[-1.25, -0.5]],
    );
}

/// `--png` writes a PNG that decodes, with black and white cells; an existing file is
/// refused and left as it was; `--overwrite` replaces it; no temporary file is left.
fn check_png(backend: &str) {
    let dir = tmp(&format!("png_{backend}"));
    let png = dir.join("maps.png");
    let png_arg = png.to_str().unwrap();
    let out = run(&["--backend", backend, "--png", png_arg]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_picture(&png);

    let before = std::fs::read(&png).unwrap();
    let out = run(&["--backend", backend, "--png", png_arg]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("conv_pool: error:"), "{err}");
    assert!(
        err.contains("already exists") && err.contains("--overwrite"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(std::fs::read(&png).unwrap(), before);

    // Something that is not a picture is refused just the same, then replaced.
    std::fs::write(&png, b"keep me").unwrap();
    let out = run(&["--backend", backend, "--png", png_arg]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&png).unwrap(), b"keep me");
    let out = run(&["--backend", backend, "--png", png_arg, "--overwrite"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_picture(&png);

    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["maps.png"], "temporary files left behind");
    std::fs::remove_dir_all(&dir).ok();
}

fn check_picture(path: &Path) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    // Six maps of 6, 3, 4, 2, 6 and 2 columns side by side: wider than tall.
    assert!(img.width() > 2 * img.height(), "{:?}", img.dimensions());
    assert!(img.height() >= 6 * 8, "{:?}", img.dimensions());
    // A grey scale: each map's minimum is black and its maximum white.
    assert!(img.pixels().any(|p| p.0 == [0, 0, 0]));
    assert!(img.pixels().any(|p| p.0 == [255, 255, 255]));
    assert!(img.pixels().all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2]));
}

#[test]
fn prints_the_worked_example_on_cpu() {
    check_example("cpu");
}

#[test]
fn png_is_written_once_on_cpu() {
    check_png("cpu");
}

#[test]
fn png_into_a_directory_is_an_error() {
    let dir = tmp("dir");
    let out = run(&["--png", dir.to_str().unwrap(), "--overwrite"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("conv_pool: error:") && err.contains("directory"),
        "{err}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing is printed before the refusal"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn help_explains_every_option() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for option in ["--backend", "--png", "--overwrite", "VALID", "SAME"] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
    // --overwrite only makes sense with --png.
    let out = run(&["--overwrite"]);
    assert!(!out.status.success());
}

#[cfg(feature = "wgpu")]
#[test]
fn prints_the_worked_example_on_wgpu() {
    if let Err(e) = backend_wgpu::Wgpu::new() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but no wgpu adapter: {e}"
        );
        eprintln!("SKIP: no wgpu adapter ({e})");
        return;
    }
    check_example("wgpu");
    check_png("wgpu");
}
