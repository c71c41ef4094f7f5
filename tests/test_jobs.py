"""Jobs files of ``hydra/sweeper=listed``: the format round-trips, and a grid expands into the
very ``key=value`` strings of Hydra's basic sweeper (so listed runs reuse a grid's run dirs)."""

from __future__ import annotations

from lrstudy.sweep.jobs import expand, read_jobs, write_jobs


def test_jobs_file_reads_in_order_without_duplicates_or_comments(tmp_path):
    path = tmp_path / "jobs.txt"
    path.write_text("a=1 b=2\n# comment\n\nc='x y'\na=1 b=2\n")
    assert read_jobs(path) == [["a=1", "b=2"], ["c=x y"]]


def test_written_jobs_read_back_unchanged(tmp_path):
    jobs = [["experiment=p4_warmup/phase/mini", "optimizer.betas=[0.9,0.999]"],
            ["name='two words'", "x=1"]]
    assert read_jobs(write_jobs(tmp_path / "sub" / "jobs.txt", jobs)) == jobs


def test_expand_is_the_cartesian_product_in_basic_sweeper_order():
    assert expand(["a=1,2", "b=x", "c=0.5,1e-05"]) == [
        ["a=1", "b=x", "c=0.5"], ["a=1", "b=x", "c=1e-05"],
        ["a=2", "b=x", "c=0.5"], ["a=2", "b=x", "c=1e-05"]]
    assert expand(["a=1"]) == [["a=1"]]
