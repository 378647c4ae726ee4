#pragma once
// Failpoints: named places where a crash test can stop a process on purpose.
//
//   failpoint("checkpoint.after_model");
//
// does nothing unless the environment variable LUCID_FAILPOINT names this
// point. Then it prints "lucid: failpoint <name> reached (pid N)" to stderr
// and waits forever, so a test can SIGKILL the process at exactly that moment
// (e.g. halfway through writing a checkpoint) and check what a real crash
// there would leave behind. The variable is read once per process.
//
// Points in lucid:
//   checkpoint.after_model    model.safetensors written into step-XXXXXXXX.tmp/
//   checkpoint.before_rename  the .tmp directory complete, not yet renamed

namespace lucid::train {

void failpoint(const char* name);

}  // namespace lucid::train
