//! The machine a report was measured on: CPU, cores, and the wgpu adapter.

use serde_json::{Value, json};

/// CPU model, logical cores, operating system, and the adapter (or why there is none).
pub fn describe() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let os = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|r| format!("{} {}", std::env::consts::OS, r.trim()))
        .unwrap_or_else(|_| std::env::consts::OS.to_string());
    let avx512 = cpuinfo.contains(" avx512f");
    json!({
        "cpu": model,
        "logical_cores": cores,
        "avx512": avx512,
        "os": os,
        "adapter": adapter(),
    })
}

/// The adapter `Wgpu::new()` opens, with its driver and the limits the kernels use.
pub fn adapter() -> Value {
    match backend_wgpu::Wgpu::new() {
        Ok(g) => {
            let info = g.adapter_info();
            let l = g.limits();
            json!({
                "name": info.name,
                "backend": format!("{:?}", info.backend),
                "device_type": format!("{:?}", info.device_type),
                "driver": info.driver,
                "driver_info": info.driver_info,
                "limits": {
                    "max_compute_workgroup_storage_size": l.max_compute_workgroup_storage_size,
                    "max_compute_invocations_per_workgroup": l.max_compute_invocations_per_workgroup,
                    "max_storage_buffer_binding_size": l.max_storage_buffer_binding_size,
                    "max_buffer_size": l.max_buffer_size,
                    "max_compute_workgroups_per_dimension": l.max_compute_workgroups_per_dimension,
                },
            })
        }
        Err(e) => json!({ "none": e.to_string() }),
    }
}

/// One line: `AMD ... (2 logical cores, AVX-512), linux 6.x`.
pub fn cpu_line(m: &Value) -> String {
    format!(
        "{} ({} logical cores{}), {}",
        m["cpu"].as_str().unwrap_or("?"),
        m["logical_cores"],
        if m["avx512"].as_bool() == Some(true) {
            ", AVX-512"
        } else {
            ""
        },
        m["os"].as_str().unwrap_or("?")
    )
}

/// One line for the adapter, or why there is none.
pub fn adapter_line(m: &Value) -> String {
    let a = &m["adapter"];
    if let Some(why) = a["none"].as_str() {
        return format!("no wgpu adapter: {why}");
    }
    format!(
        "{} ({}, {}; driver {} {}); workgroup memory {} B, {} invocations per workgroup, \
         storage binding {} MiB",
        a["name"].as_str().unwrap_or("?"),
        a["backend"].as_str().unwrap_or("?"),
        a["device_type"].as_str().unwrap_or("?"),
        a["driver"].as_str().unwrap_or("?"),
        a["driver_info"].as_str().unwrap_or(""),
        a["limits"]["max_compute_workgroup_storage_size"],
        a["limits"]["max_compute_invocations_per_workgroup"],
        a["limits"]["max_storage_buffer_binding_size"]
            .as_u64()
            .map_or(0, |b| b >> 20),
    )
}
