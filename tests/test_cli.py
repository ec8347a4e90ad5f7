import subprocess
import sys


def test_synth_cli_writes_a_store_and_reports_bad_values(tmp_path):
    out = tmp_path / "s"
    ok = subprocess.run([sys.executable, "-m", "ferlib", "synth", "--out", str(out), "--subjects", "2", "--frames", "4",
                         "--size", "24", "--classes", "happy,sad"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "4 clips" in ok.stdout and (out / "store.json").is_file()
    bad = subprocess.run([sys.executable, "-m", "ferlib", "synth", "--out", str(tmp_path / "t"), "--classes", "happy,grumpy"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown class name 'grumpy'" in bad.stderr
