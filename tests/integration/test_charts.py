"""The charts in docs/charts/ are what loadtest/charts.py draws from the
reports in loadtest/results/: a report changed without the charts being
redrawn, or a script that no longer reads the reports, fails here."""
import filecmp
import os
import shutil
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("CHGATE_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHARTS = ("throughput.svg", "durable.svg", "ramp.svg", "peers.svg")
# Debian's python3-matplotlib is for Debian's Python, whatever python3 is first on PATH.
PYTHON = "/usr/bin/python3"


class ChartsTest(unittest.TestCase):
    def test_committed_charts_are_redrawn_byte_for_byte(self):
        out = tempfile.mkdtemp(prefix="chgate-it-charts-")
        self.addCleanup(shutil.rmtree, out, True)
        done = subprocess.run([PYTHON, os.path.join(SOURCE, "loadtest", "charts.py"), out],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        for name in CHARTS:
            drawn = os.path.join(out, name)
            with open(drawn) as f:
                svg = f.read()
            self.assertIn("<svg", svg)
            # Numbers from the reports are on the charts (bar labels).
            self.assertGreater(svg.count("<g id=\"text_"), 10, name)
            self.assertTrue(
                filecmp.cmp(drawn, os.path.join(SOURCE, "docs", "charts", name), shallow=False),
                f"docs/charts/{name} is not what loadtest/charts.py draws: "
                "run /usr/bin/python3 loadtest/charts.py and commit the charts")

    def test_a_report_without_its_table_is_an_error(self):
        work = tempfile.mkdtemp(prefix="chgate-it-charts-")
        self.addCleanup(shutil.rmtree, work, True)
        # A copy of the script beside reports that lack the tables it reads.
        os.makedirs(os.path.join(work, "loadtest", "results"))
        shutil.copy(os.path.join(SOURCE, "loadtest", "charts.py"), os.path.join(work, "loadtest"))
        for name in os.listdir(os.path.join(SOURCE, "loadtest", "results")):
            with open(os.path.join(work, "loadtest", "results", name), "w") as f:
                f.write("# a report\n\nno tables\n")
        done = subprocess.run([PYTHON, os.path.join(work, "loadtest", "charts.py"),
                               os.path.join(work, "out")], capture_output=True, text=True,
                              timeout=120)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("charts.py: no table", done.stderr)


if __name__ == "__main__":
    unittest.main()
