//! This computer's memory: total and available now (Linux: `/proc/meminfo`; macOS and Windows:
//! the system's own figures through `sysinfo`; elsewhere unknown, and the memory check is then
//! left to the engine, which fails with its own words).

/// Bytes of memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    pub total: u64,
    pub available: u64,
}

/// The memory now, where this system says.
pub fn read() -> Option<Memory> {
    #[cfg(target_os = "linux")]
    {
        parse(&std::fs::read_to_string("/proc/meminfo").ok()?)
    }
    #[cfg(any(target_os = "macos", target_os = "windows"))]
    {
        let mut s = sysinfo::System::new();
        s.refresh_memory();
        known(s.total_memory(), s.available_memory())
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
    {
        None
    }
}

/// Figures a system gave, if they make sense (a total, and no more available than that).
pub fn known(total: u64, available: u64) -> Option<Memory> {
    (total > 0 && available <= total).then_some(Memory { total, available })
}

/// `/proc/meminfo`'s MemTotal and MemAvailable (kB).
pub fn parse(text: &str) -> Option<Memory> {
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        kb.checked_mul(1024)
    };
    Some(Memory {
        total: field("MemTotal:")?,
        available: field("MemAvailable:")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_is_read_and_anything_else_is_unknown() {
        let text = "MemTotal:        8048576 kB\nMemFree:          100000 kB\nMemAvailable:    4024288 kB\n";
        assert_eq!(
            parse(text),
            Some(Memory {
                total: 8048576 * 1024,
                available: 4024288 * 1024
            })
        );
        assert_eq!(parse("MemTotal: 12 kB\n"), None);
        assert_eq!(parse("MemTotal: x kB\nMemAvailable: 1 kB\n"), None);
        assert_eq!(parse(""), None);
        assert_eq!(
            known(8, 3),
            Some(Memory {
                total: 8,
                available: 3
            })
        );
        assert_eq!(known(0, 0), None);
        assert_eq!(known(8, 9), None);
        assert_eq!(
            parse("MemTotal: 99999999999999999999 kB\nMemAvailable: 1 kB"),
            None
        );
    }
}
