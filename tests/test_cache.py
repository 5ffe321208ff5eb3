"""The cache's table of small entries (feature vectors, picture hashes): shared, damage-proof."""

from __future__ import annotations

import subprocess
import sys

from pocketvision.cache import CacheTable


def test_entries_written_are_read_back_by_another_process(tmp_path):
    table = CacheTable(tmp_path / "cache" / "t.sqlite")
    table.put_many({f"key-{i}": i.to_bytes(8, "little") for i in range(1200)})  # over one query's limit
    code = (f"from pocketvision.cache import CacheTable; t = CacheTable(__import__('pathlib')"
            f".Path({str(tmp_path / 'cache' / 't.sqlite')!r})); "
            "print(len(t.get_many([f'key-{i}' for i in range(1300)])))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "1200"
    assert table.get_many(["key-7", "nothing"]) == {"key-7": (7).to_bytes(8, "little")}


def test_a_damaged_file_is_started_again(tmp_path, capsys):
    path = tmp_path / "t.sqlite"
    path.write_bytes(b"this is not a database, but some other file's bytes" * 100)
    table = CacheTable(path)
    assert table.get_many(["a"]) == {}
    table.put_many({"a": b"1"})
    assert CacheTable(path).get_many(["a"]) == {"a": b"1"}
    assert capsys.readouterr().err == ""


def test_a_cache_that_cannot_be_written_warns_once_and_carries_on(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("pocketvision.cache._warned_about", set())
    blocker = tmp_path / "a-file"
    blocker.write_text("a folder cannot be made inside a file")
    table = CacheTable(blocker / "t.sqlite")
    for _ in range(3):
        table.put_many({"a": b"1"})
        assert table.get_many(["a"]) == {}
    assert capsys.readouterr().err.count("warning: cannot write the cache") == 1


def test_a_read_only_cache_is_still_read(tmp_path):
    """Hardening 3, item 20: a pre-filled cache on a disk or folder this user cannot
    write (a shared cache, a read-only mount) is read as it is: WAL mode made every
    read fail, so every feature was computed again. Nothing new is kept, said once.
    The reader runs with the cache's folder bind-mounted read-only, in a mount
    namespace of its own (unshare maps the user to root there: no privileges needed)."""
    table = CacheTable(tmp_path / "t.sqlite")
    table.put_many({"a": b"kept"})
    table._db.close()  # the last connection: the WAL is folded into the file
    reader = ("import sys; from pathlib import Path; from pocketvision.cache import CacheTable\n"
              "t = CacheTable(Path(sys.argv[1]))\n"
              "print(t.get_many(['a']))\n"
              "t.put_many({'b': b'new'})\n"
              "print(t.get_many(['b']))")
    read_only = 'mount --bind -o ro "$1" "$1" && exec "$2" -c "$3" "$1/t.sqlite"'
    result = subprocess.run(["unshare", "--map-root-user", "--mount", "sh", "-c", read_only, "sh",
                             str(tmp_path), sys.executable, reader], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["{'a': b'kept'}", "{}"], result.stderr
    assert result.stderr.count("warning: cannot write the cache") == 1, result.stderr
