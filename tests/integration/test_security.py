"""Least privilege and secrets on the real services (issue 10).

- PostgreSQL: the migrations run as the owner of storyd's tables, which grants a second role
  (storyd.daemon_role) the rows and nothing more; the daemon logs in as that role over TLS
  (sslmode=require) with a SCRAM password read from a file, and does its whole job; the same
  role cannot create, drop or truncate a table, nor rewrite the migration history. A wrong
  password stops the daemon with the server's reason, and the password is in no log line.
- Kafka: the daemon and its relay authenticate with SASL/PLAIN (password from a file) on the
  local broker's SASL listener; a wrong password keeps it from consuming anything, says why,
  and never prints the password.
- The secrets appear nowhere: not in the daemon's debug log, not in /metrics, not in
  check-config's output.

scripts/pg.sh makes members of the group storyd_password authenticate with SCRAM over TLS only;
scripts/kafka.sh runs a SASL_PLAINTEXT listener next to the plaintext one.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Security(harness.StorydTestCase):

    partitions = 1

    def secret_file(self, name, value):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(value + "\n")
        os.chmod(path, 0o600)
        return path

    def assert_no_secret(self, secret, *texts):
        for text in texts:
            self.assertNotIn(secret, text)

    def least_privilege_database(self):
        """A database owned by a role of its own, migrated by it, with a daemon role granted."""
        # Roles are made by the cluster's superuser (storyd itself may not make roles).
        admin = harness.PG_DSN.replace("user=storyd", "user=postgres")
        owner, daemon = "it_owner_" + self.tag, "it_daemon_" + self.tag
        password = "pw-" + secrets.token_hex(12)
        harness.psql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
                     "'storyd_password') THEN CREATE ROLE storyd_password NOLOGIN; END IF; END $$",
                     dsn=admin)
        harness.psql("CREATE ROLE %s LOGIN" % owner, dsn=admin)
        harness.psql("CREATE ROLE %s LOGIN PASSWORD '%s' IN ROLE storyd_password"
                     % (daemon, password), dsn=admin)
        dbname = self.dbname + "_lp"
        harness.psql("CREATE DATABASE %s OWNER %s" % (dbname, owner), dsn=admin)
        self.addCleanup(harness.psql, "DROP ROLE IF EXISTS %s, %s" % (daemon, owner),
                        dsn=admin, check=False)
        self.addCleanup(harness.psql, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % dbname,
                        dsn=harness.PG_DSN, check=False)
        owner_config = self.write_config(**{
            "postgres.dbname": dbname, "postgres.user": owner, "storyd.daemon_role": daemon})
        out = harness.run(["migrate"], owner_config)
        self.assertRegex(out, r"granted role %s the rows of \d+ tables and sequences" % daemon)
        # The harness's queries (offsets, rows, `storyd lag`) read this database as the superuser.
        self.dsn = harness.dsn_with_dbname(dbname, admin)
        harness._default_dsn[0] = self.dsn
        return dbname, daemon, password

    def test_the_daemon_role_does_its_job_over_tls_and_nothing_more(self):
        dbname, role, password = self.least_privilege_database()
        port = free_port()
        config = self.write_config(**{
            "postgres.dbname": dbname, "postgres.user": role, "postgres.sslmode": "require",
            "postgres.password_file": self.secret_file("pg-password", password),
            "storyd.log_level": "debug", "storyd.http_listen": "127.0.0.1:%d" % port})
        daemon = self.start_daemon(config)
        daemon.wait_for_log(r"assigned 1 partition")
        self.produce(harness.page_events(20, "s"))
        self.wait_drained()
        # It ran over TLS, as the daemon role.
        self.assertEqual(harness.scalar(
            "SELECT bool_and(s.ssl) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) "
            "WHERE a.usename = '%s'" % role), "t")
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
            metrics = r.read().decode()
        self.assertEqual(daemon.stop(), 0, daemon.text())
        self.assert_exactly_once(20)
        check = harness.run(["check-config"], config)
        self.assert_no_secret(password, daemon.text(), metrics, check)
        self.assertIn("password = <redacted>", check)

        # What the role may not do, asked of the server itself.
        env = dict(os.environ, PGPASSWORD=password)
        as_role = "host=127.0.0.1 port=%s dbname=%s user=%s sslmode=require" % (
            harness.dsn_with_dbname(dbname).split("port=")[1].split()[0], dbname, role)
        for sql, refusal in [
                ("CREATE TABLE storyd_extra (x int)", "permission denied for schema public"),
                ("DROP TABLE storyd_sighting", "must be owner of table storyd_sighting"),
                ("TRUNCATE storyd_story", "permission denied for table storyd_story"),
                ("DELETE FROM storyd_schema_migration", "permission denied for table storyd_schema_migration"),
                ("ALTER TABLE storyd_outbox ADD COLUMN x int", "must be owner of table storyd_outbox")]:
            proc = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", as_role, "-c", sql],
                                  capture_output=True, text=True, env=env, timeout=30)
            self.assertNotEqual(proc.returncode, 0, sql)
            self.assertIn(refusal, proc.stderr, sql)
        # Without TLS the server refuses the role before any password is asked.
        proc = subprocess.run(["psql", "-X", as_role.replace("require", "disable"), "-c", "SELECT 1"],
                              capture_output=True, text=True, env=env, timeout=30)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("no encryption", proc.stderr)

        # A wrong password: the daemon stops with the server's reason, and names no password.
        wrong = "wrong-" + secrets.token_hex(8)
        bad = self.start_daemon(self.write_config(**{
            "postgres.dbname": dbname, "postgres.user": role, "postgres.sslmode": "require",
            "postgres.password_file": self.secret_file("wrong-password", wrong),
            "storyd.log_level": "debug"}))
        self.assertEqual(bad.wait(60), 1, bad.text())
        self.assertIn('password authentication failed for user "%s"' % role, bad.text())
        self.assert_no_secret(wrong, bad.text())
        self.assert_no_secret(password, bad.text())

    def sasl_config(self, password_file, **overrides):
        return self.write_config(**{
            "kafka.bootstrap.servers": harness.ENV["STORYD_KAFKA_SASL_BROKERS"],
            "kafka.security.protocol": "SASL_PLAINTEXT", "kafka.sasl.mechanisms": "PLAIN",
            "kafka.sasl.username": harness.ENV["STORYD_KAFKA_SASL_USER"],
            "kafka.sasl.password_file": password_file, "storyd.log_level": "debug", **overrides})

    def test_sasl_to_kafka_with_a_password_from_a_file(self):
        password = harness.ENV["STORYD_KAFKA_SASL_PASSWORD"]
        config = self.sasl_config(self.secret_file("kafka-password", password))
        daemon = self.start_daemon(config)
        daemon.wait_for_log(r"assigned 1 partition")
        self.assertIn("(%s)" % harness.ENV["STORYD_KAFKA_SASL_BROKERS"], daemon.text())
        self.produce(harness.page_events(15, "k"))
        self.wait_drained()
        # The relay authenticates too: every story event reaches the broker.
        deadline = time.monotonic() + 60
        while harness.scalar("SELECT count(*) FROM storyd_outbox WHERE sent_at IS NULL") != "0":
            self.assertLess(time.monotonic(), deadline, "the outbox did not drain")
            time.sleep(0.2)
        self.assertGreater(int(harness.scalar("SELECT count(*) FROM storyd_outbox")), 0)
        self.assertEqual(daemon.stop(), 0, daemon.text())
        self.assert_exactly_once(15)
        self.assert_no_secret(password, daemon.text(), harness.run(["check-config"], config))

        # A wrong password: nothing is consumed, the reason is logged, the password is not.
        wrong = "wrong-" + secrets.token_hex(8)
        self.produce(harness.page_events(5, "w"))
        bad = self.start_daemon(self.sasl_config(self.secret_file("wrong", wrong)))
        bad.wait_for_log(r"Authentication failed", timeout=60)
        time.sleep(2)
        self.assertEqual(self.stored_offsets(), {0: 15})
        self.assertIsNone(bad.proc.poll(), "a broker that refuses us is retried, not fatal")
        self.assertEqual(bad.stop(), 0, bad.text())
        self.assert_no_secret(wrong, bad.text())
        self.assert_no_secret(password, bad.text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
