"""`storyd migrate` and the configuration: forward-only migrations, refusal of a
newer or edited schema, and errors that name the file, line and key."""

import os
import re
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

# The migrations in schemas/, by name: what `storyd migrate` must apply to an empty schema.
MIGRATIONS = sorted(name[:-4] for name in os.listdir(os.path.join(harness.ROOT, "schemas"))
                    if name[:4].isdigit() and name.endswith(".sql"))


class Migrate(unittest.TestCase):
    """Each test migrates its own PostgreSQL schema (search_path), not the shared one."""

    def setUp(self):
        self.schema = "it_migrate_%s" % uuid.uuid4().hex[:10]
        harness.psql("CREATE SCHEMA %s" % self.schema)
        self.tmp = tempfile.TemporaryDirectory(prefix="storyd-it-")
        self.dsn = harness.PG_DSN + " options='-csearch_path=%s'" % self.schema
        self.config = os.path.join(self.tmp.name, "storyd.conf")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write("[storyd]\ninput_topic = it.none\n[kafka]\nbootstrap.servers = %s\n[postgres]\n"
                    % harness.BROKERS)
            for kv in harness.shlex.split(harness.PG_DSN):
                f.write("%s = %s\n" % tuple(kv.split("=", 1)))
            f.write("options = -csearch_path=%s\n" % self.schema)

    def tearDown(self):
        harness.psql("DROP SCHEMA %s CASCADE" % self.schema)
        self.tmp.cleanup()

    def storyd(self, *args):
        return subprocess.run([harness.STORYD, args[0], "-c", self.config, *args[1:]],
                              capture_output=True, text=True, timeout=60)

    def test_migrate_applies_once_and_records_versions(self):
        first = self.storyd("migrate")
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertIn("schema at version %d (%d migrations applied)" % (len(MIGRATIONS), len(MIGRATIONS)),
                      first.stdout)
        second = self.storyd("migrate")
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertIn("(0 migrations applied)", second.stdout)
        rows = harness.psql("SELECT version, name, length(checksum) FROM storyd_schema_migration ORDER BY version", dsn=self.dsn)
        self.assertEqual(rows, [[str(int(m[:4])), m, "32"] for m in MIGRATIONS])
        tables = harness.psql("SELECT tablename FROM pg_tables WHERE schemaname = '%s' ORDER BY 1" % self.schema)
        self.assertEqual([t[0] for t in tables], ["storyd_consumer_offset", "storyd_outbox", "storyd_page_event",
                                                  "storyd_rejected_event", "storyd_schema_migration",
                                                  "storyd_sighting", "storyd_story", "storyd_story_alias",
                                                  "storyd_story_link", "storyd_text", "storyd_title_variant"])

    def test_newer_schema_is_refused_by_migrate_and_run(self):
        self.assertEqual(self.storyd("migrate").returncode, 0)
        harness.psql("INSERT INTO storyd_schema_migration (version, name, checksum) "
                     "VALUES (9999, '9999_from_the_future', 'x')", dsn=self.dsn)
        migrate = self.storyd("migrate")
        self.assertEqual(migrate.returncode, 1)
        self.assertIn("migration 9999 (9999_from_the_future), which this storyd does not know", migrate.stderr)
        run = self.storyd("run")
        self.assertEqual(run.returncode, 1)
        self.assertIn("schema is at version 9999, this storyd needs %d" % len(MIGRATIONS), run.stderr)

    def test_run_refuses_an_unmigrated_database(self):
        run = self.storyd("run")
        self.assertEqual(run.returncode, 1)
        self.assertIn("run storyd migrate", run.stderr)

    def test_edited_migration_is_refused(self):
        self.assertEqual(self.storyd("migrate").returncode, 0)
        harness.psql("UPDATE storyd_schema_migration SET checksum = 'edited'", dsn=self.dsn)
        migrate = self.storyd("migrate")
        self.assertEqual(migrate.returncode, 1)
        self.assertIn("0001_page_events_and_offsets was changed after it was applied", migrate.stderr)

    def test_offset_fence_raises_on_the_server(self):
        self.assertEqual(self.storyd("migrate").returncode, 0)
        harness.psql("SELECT storyd_advance_offset('g', 't', 0, NULL, 10)", dsn=self.dsn)
        harness.psql("SELECT storyd_advance_offset('g', 't', 0, 10, 20)", dsn=self.dsn)
        # A stale owner that still believes the partition is at 10 is stopped by an error.
        stale = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", self.dsn, "-c",
                                "SELECT storyd_advance_offset('g', 't', 0, 10, 30)"],
                               capture_output=True, text=True)
        self.assertNotEqual(stale.returncode, 0)
        self.assertIn("is no longer at offset 10", stale.stderr)
        # So is a second "first" owner.
        second_first = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", self.dsn, "-c",
                                       "SELECT storyd_advance_offset('g', 't', 0, NULL, 5)"],
                                      capture_output=True, text=True)
        self.assertNotEqual(second_first.returncode, 0)
        self.assertIn("duplicate key", second_first.stderr)
        self.assertEqual(harness.psql("SELECT next_offset FROM storyd_consumer_offset", dsn=self.dsn), [["20"]])


class Config(unittest.TestCase):

    def check(self, text, *extra):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write(text)
        try:
            proc = subprocess.run([harness.STORYD, "check-config", "-c", f.name, *extra],
                                  capture_output=True, text=True, timeout=30)
            return proc, f.name
        finally:
            os.unlink(f.name)

    def test_valid_config(self):
        proc, _ = self.check("[kafka]\nbootstrap.servers = x:1\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("configuration OK", proc.stdout)

    def test_unknown_key_names_file_line_and_key(self):
        proc, path = self.check("[storyd]\ninput_topic = a\n\n[batch]\nmax_event = 5\n")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("%s:5: unknown key 'max_event' in [batch]" % path, proc.stderr)

    def test_bad_value_names_the_key(self):
        proc, path = self.check("[batch]\nmax_events = lots\n")
        self.assertIn("%s:2: batch.max_events: 'lots' is not an integer" % path, proc.stderr)

    def test_override_errors_name_the_override(self):
        proc, _ = self.check("[kafka]\nbootstrap.servers = x:1\n", "-o", "batch.max_wait_ms=-5")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("-o batch.max_wait_ms: batch.max_wait_ms: -5 is outside", proc.stderr)

    def test_offsets_in_kafka_are_refused(self):
        proc, _ = self.check("[kafka]\nbootstrap.servers = x:1\nenable.auto.commit = true\n")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("kafka.enable.auto.commit may not be set", proc.stderr)

    def test_kafka_keys_storyd_relies_on_are_limited(self):
        proc, _ = self.check("[kafka]\nbootstrap.servers = x:1\nisolation.level = read_uncommitted\n")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("kafka.isolation.level = read_uncommitted: storyd reads read_committed only", proc.stderr)
        proc, _ = self.check("[kafka]\nbootstrap.servers = x:1\nauto.offset.reset = error\n")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("'error' is not one of earliest, smallest, beginning, latest, largest, end", proc.stderr)
        proc, _ = self.check("[kafka]\nbootstrap.servers = x:1\nauto.offset.reset = latest\n"
                             "isolation.level = read_committed\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_passthrough_keys_are_checked_against_the_libraries(self):
        proc, _ = self.check("[kafka]\nbootstrap.servers = x:1\nno.such.property = 1\n"
                             "[postgres]\nhost = h\nhots = typo\n")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("kafka.no.such.property: No such configuration property", proc.stderr)
        self.assertIn("postgres.hots: not a libpq connection keyword", proc.stderr)

    def test_effective_config_names_origins_and_redacts_secrets(self):
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "pg-password"), "w") as f:
                f.write("from-a-credential\n")
            secret_file = os.path.join(folder, "sasl")
            with open(secret_file, "w") as f:
                f.write("from-a-file\n")
            text = ("[kafka]\nbootstrap.servers = x:1\nsasl.password_file = %s\n"
                    "ssl.key.password = inline-secret\n[postgres]\nhost = h\n"
                    "password_file = credential:pg-password\n" % secret_file)
            env = dict(os.environ, CREDENTIALS_DIRECTORY=folder)
            with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
                f.write(text)
            try:
                proc = subprocess.run([harness.STORYD, "check-config", "-c", f.name,
                                       "-o", "batch.max_events=7"], capture_output=True,
                                      text=True, timeout=30, env=env)
            finally:
                os.unlink(f.name)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = proc.stdout
        for secret in ("from-a-credential", "from-a-file", "inline-secret"):
            self.assertNotIn(secret, out + proc.stderr)
        self.assertRegex(out, r"(?m)^sasl\.password = <redacted> +; %s:3 \(sasl\.password_file = "
                         % re.escape(f.name))
        self.assertRegex(out, r"(?m)^ssl\.key\.password = <redacted> +; %s:4$" % re.escape(f.name))
        self.assertRegex(out, r"(?m)^password = <redacted> +; %s:7 \(password_file = credential:"
                         r"pg-password\)$" % re.escape(f.name))
        self.assertRegex(out, r"(?m)^max_events = 7 +; -o batch\.max_events$")
        self.assertRegex(out, r"(?m)^max_wait_ms = 200 +; default$")
        self.assertRegex(out, r"(?m)^min_similarity = 0\.5 +; default$")

    def test_a_missing_secret_file_names_line_and_key(self):
        proc, path = self.check("[kafka]\nbootstrap.servers = x:1\n[postgres]\n"
                                "password_file = /nonexistent/pw\n")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("%s:4: postgres.password_file: /nonexistent/pw: No such file" % path,
                      proc.stderr)

    def test_refusals_name_the_line(self):
        proc, path = self.check("[kafka]\nbootstrap.servers = x:1\n\nisolation.level = read_uncommitted\n")
        self.assertIn("%s:4: kafka.isolation.level" % path, proc.stderr)
        proc, path = self.check("[kafka]\nbootstrap.servers = x:1\n[dedup]\nbands = 32\nrows = 4\n")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("%s:5: dedup.bands x dedup.rows = 32 x 4: at most 64" % path, proc.stderr)

    def test_generated_sample_config_and_man_page(self):
        sample = subprocess.run([harness.STORYD, "help", "--sample-config"], capture_output=True,
                                text=True, timeout=30, check=True).stdout
        proc, _ = self.check(sample)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # Every key of the help is in the sample and the man page.
        keys = re.findall(r"(?m)^  (\w+)\.(\w+) \(", subprocess.run(
            [harness.STORYD, "--help"], capture_output=True, text=True, check=True).stdout)
        self.assertGreater(len(keys), 30)
        man = subprocess.run([harness.STORYD, "help", "--man"], capture_output=True, text=True,
                             timeout=30, check=True).stdout
        for section, name in keys:
            self.assertRegex(sample, r"(?m)^;%s = " % name)
            self.assertIn(".B %s.%s" % (section, name.replace("-", "\\-")), man)
        lint = subprocess.run(["groff", "-man", "-ww", "-z"], input=man, capture_output=True,
                              text=True, timeout=30)
        self.assertEqual((lint.returncode, lint.stderr), (0, ""))
        run_help = subprocess.run([harness.STORYD, "run", "--help"], capture_output=True,
                                  text=True, timeout=30)
        self.assertEqual(run_help.returncode, 0)
        self.assertTrue(run_help.stdout.startswith("usage: storyd run "), run_help.stdout)
        self.assertIn("SIGHUP", run_help.stdout)
        self.assertEqual(subprocess.run([harness.STORYD, "help", "nope"], capture_output=True,
                                        timeout=30).returncode, 2)

    def test_shipped_configurations_check(self):
        # docker/storyd.conf reads the compose secret; here it is the file the secret comes from.
        for name in ("samples/storyd-local.conf", "docker/storyd.conf"):
            with open(os.path.join(harness.ROOT, name), encoding="utf-8") as f:
                text = f.read().replace("/run/secrets/pg_password",
                                        os.path.join(harness.ROOT, "docker", "pg-password"))
            proc, _ = self.check(text)
            self.assertEqual(proc.returncode, 0, "%s: %s" % (name, proc.stderr))
            self.assertIn("configuration OK", proc.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
