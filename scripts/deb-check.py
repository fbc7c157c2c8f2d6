#!/usr/bin/env python3
"""The Debian package, installed and run on a fresh Debian root.

    scripts/deb-check.py check      exit 0 when this machine can run the test, else say why
    scripts/deb-check.py [DEB]      the test (builds the package with scripts/build-deb.sh
                                    unless DEB is given)

A minimal Debian root is made once with debootstrap, with the package's dependencies and what
the checks need (systemd for `systemd-analyze verify`, man-db, cage for the kiosk example), and
kept as a tarball under .build/debootstrap/; every run unpacks a fresh copy. Nothing is
downloaded once that tarball exists. Then, in that root:

  - dpkg installs the package: the palier user and groups, /var/lib/palier and /etc/palier
    with their owners and modes, the binary, units, man page and completions;
  - `palier --version` runs (no Swift toolchain in that root);
  - `palier init` typed as root leaves every file of the node to the palier user;
  - the node runs with palier.service's command line, user, groups, umask and file-system
    protection (the root read-only but for ReadWritePaths, a private /tmp), in a network
    namespace of its own, and tells systemd it is ready through $NOTIFY_SOCKET; `palier
    status` and `palier post` work beside it; SIGTERM stops it cleanly;
  - `systemd-analyze verify` passes on both units;
  - reinstalling keeps keys and settings byte for byte; remove keeps the data; purge deletes it.

Each check prints `ok: …`; the first failure prints `FAIL: …` and exits 1.
"""
import hashlib
import os
import pwd
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time

ROOT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT_DIR, ".build")
EXTRA = ["systemd", "man-db", "cage"]


def fail(message):
    print("FAIL: " + message, flush=True)
    sys.exit(1)


def ok(message):
    print("ok: " + message, flush=True)


def run(command, check=True, **kwargs):
    # palier's messages in English, which these checks read (PALIER_LANG; the locale would do).
    kwargs["env"] = dict(kwargs.get("env") or os.environ, PALIER_LANG="en")
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    if check and result.returncode != 0:
        fail("%s exited %d:\n%s" % (" ".join(map(shlex.quote, command)), result.returncode, result.stdout))
    return result


def unavailable():
    """Why this machine cannot run the test, or None."""
    if os.geteuid() != 0:
        return "needs root (debootstrap, chroot, namespaces)"
    for tool in ["debootstrap", "dpkg-deb", "dpkg-shlibdeps", "unshare", "systemd-analyze", "ip"]:
        if shutil.which(tool) is None and not os.path.exists("/usr/sbin/" + tool):
            return "%s is missing (scripts/setup.sh --tests installs it)" % tool
    if run(["unshare", "--net", "--mount", "true"], check=False).returncode != 0:
        return "unshare cannot make network and mount namespaces here"
    return None


def suite_and_mirror():
    release = dict(line.rstrip("\n").split("=", 1) for line in open("/etc/os-release") if "=" in line)
    suite = release.get("VERSION_CODENAME", "").strip('"') or "bookworm"
    mirror = os.environ.get("PALIER_DEBIAN_MIRROR", "http://deb.debian.org/debian")
    return suite, mirror


def fresh_root(deb):
    """A fresh copy of the cached debootstrap root with the package's dependencies."""
    depends = run(["dpkg-deb", "-f", deb, "Depends"]).stdout
    packages = sorted({part.strip().split(" ")[0].split(":")[0] for part in depends.replace("|", ",").split(",") if part.strip()} | set(EXTRA))
    suite, mirror = suite_and_mirror()
    key = hashlib.sha256((suite + " " + " ".join(packages)).encode()).hexdigest()[:12]
    cache_dir = os.path.join(BUILD, "debootstrap")
    tarball = os.path.join(cache_dir, "%s-%s.tar" % (suite, key))
    if not os.path.exists(tarball):
        os.makedirs(cache_dir, exist_ok=True)
        staging = tarball + ".dir"
        shutil.rmtree(staging, ignore_errors=True)
        started = time.time()
        run(["debootstrap", "--variant=minbase", "--include=" + ",".join(packages), suite, staging, mirror])
        run(["tar", "-C", staging, "--numeric-owner", "-cf", tarball + ".tmp", "."])
        os.rename(tarball + ".tmp", tarball)
        shutil.rmtree(staging, ignore_errors=True)
        ok("debootstrap %s root with %s, cached in %s (%.0f s)" % (suite, ", ".join(packages), os.path.relpath(tarball, ROOT_DIR), time.time() - started))
    root = os.path.join(BUILD, "deb-test", "root")
    if os.path.exists(root):
        run(["rm", "-rf", "--one-file-system", root])
    os.makedirs(root)
    run(["tar", "-C", root, "--numeric-owner", "-xf", tarball])
    return root


def chroot(root, *command, check=True, env=None):
    """A command in the root, in its own mount namespace with /proc (nothing is left mounted)."""
    script = 'mount -t proc proc "$1/proc" && shift && exec chroot "$@"'
    return run(["unshare", "--mount", "--fork", "--pid", "sh", "-c", script, "sh", root, root, *command], check=check, env=env)


def owner(path):
    info = os.lstat(path)
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)


def account(root, name, database="passwd"):
    for line in open(os.path.join(root, "etc", database)):
        fields = line.rstrip("\n").split(":")
        if fields[0] == name:
            return fields
    return None


def expect_mode(root, path, uid, gid, mode):
    full = os.path.join(root, path.lstrip("/"))
    if not os.path.exists(full):
        fail("%s is missing" % path)
    got = owner(full)
    if got != (uid, gid, mode):
        fail("%s is %d:%d %o, expected %d:%d %o" % (path, got[0], got[1], got[2], uid, gid, mode))


def unit_settings(text):
    settings = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def digest(root, *paths):
    h = hashlib.sha256()
    for path in paths:
        with open(os.path.join(root, path.lstrip("/")), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def run_node(root, unit):
    """palier.service's ExecStart as systemd would run it, as far as a chroot can: its user and
    groups, umask, no new privileges, the whole root read-only but for ReadWritePaths, a private
    /tmp, and $NOTIFY_SOCKET. Returns the process and the notification socket."""
    user = unit["User"][0]
    group = unit["Group"][0]
    groups = " ".join(unit.get("SupplementaryGroups", [])).split()
    umask = unit.get("UMask", ["0022"])[0]
    writable = " ".join(unit.get("ReadWritePaths", [])).split()
    exec_start = shlex.split(unit["ExecStart"][0])
    notify_path = os.path.join(root, "run", "palier-notify")
    if os.path.exists(notify_path):
        os.unlink(notify_path)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    os.chmod(notify_path, 0o666)
    binds = " && ".join('mount --bind "$R%s" "$R%s"' % (p, p) for p in writable)
    script = f"""set -e
R="$1"; shift
ip link set lo up
mount --bind "$R" "$R"
{binds}
mount -t proc proc "$R/proc"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mount -o remount,bind,ro "$R"
umask {umask}
exec chroot "$R" setpriv --reuid={user} --regid={group} --groups={",".join(groups)} --no-new-privs -- "$@"
"""
    env = dict(os.environ, NOTIFY_SOCKET="/run/palier-notify", PALIER_LANG="en")
    log = open(os.path.join(BUILD, "deb-test", "node.log"), "w")
    process = subprocess.Popen(["unshare", "--net", "--mount", "--pid", "--fork", "sh", "-c", script, "sh", root, *exec_start],
                               stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    return process, notify


def test(deb):
    root = fresh_root(deb)
    inside = "/tmp/" + os.path.basename(deb)
    shutil.copy(deb, os.path.join(root, inside.lstrip("/")))

    installed = chroot(root, "dpkg", "-i", inside)
    ok("dpkg -i %s" % os.path.basename(deb))
    if "palier init --name" not in installed.stdout:
        fail("the postinst does not tell how to initialise the node:\n" + installed.stdout)
    ok("postinst says what to do next")

    version = chroot(root, "palier", "--version").stdout.strip()
    if version not in os.path.basename(deb):
        fail("palier --version says %r, the package is %s" % (version, deb))
    ok("palier --version: %s, without a Swift toolchain in the root" % version)
    libraries = chroot(root, "ldd", "/usr/bin/palier").stdout
    if "swift" in libraries.lower():
        fail("the binary loads a Swift library:\n" + libraries)
    ok("no Swift library is loaded at run time")

    palier = account(root, "palier")
    screen = account(root, "palier-screen", "group")
    if palier is None or screen is None:
        fail("the palier user or the palier-screen group is missing")
    uid, gid = int(palier[2]), int(palier[3])
    if palier[6] != "/usr/sbin/nologin" or palier[5] != "/var/lib/palier" or int(palier[2]) >= 1000:
        fail("the palier user is not a system user with no shell: %s" % ":".join(palier))
    if "palier" not in screen[3].split(","):
        fail("palier is not in palier-screen: %s" % ":".join(screen))
    ok("system user palier (uid %d, no shell), groups palier and palier-screen" % uid)
    expect_mode(root, "/var/lib/palier", uid, gid, 0o711)
    expect_mode(root, "/etc/palier", uid, gid, 0o750)
    expect_mode(root, "/usr/bin/palier", 0, 0, 0o755)
    for path in ["/lib/systemd/system/palier.service", "/usr/share/doc/palier/examples/palier-kiosk.service",
                 "/usr/share/doc/palier/examples/screen/launcher.html", "/usr/share/man/man1/palier.1.gz", "/usr/share/man/fr/man1/palier.1.gz",
                 "/usr/share/bash-completion/completions/palier", "/usr/share/zsh/vendor-completions/_palier",
                 "/usr/share/fish/vendor_completions.d/palier.fish", "/usr/share/doc/palier/configuration.md"]:
        expect_mode(root, path, 0, 0, 0o644)
    ok("files, owners and modes of the package")
    manual = chroot(root, "man", "-P", "cat", "palier").stdout
    if "palier backup" not in manual or "EXIT STATUS" not in manual:
        fail("man palier lacks its commands:\n" + manual[:2000])
    ok("man palier shows every command")
    french = chroot(root, "man", "-L", "fr", "-P", "cat", "palier").stdout
    if "COMMANDES" not in french or "Publier un message signé." not in french:
        fail("man palier in French lacks its commands:\n" + french[:2000])
    ok("man -L fr palier: the French manual")

    # Typed by an admin as root: every file ends up the palier user's.
    init = chroot(root, "palier", "init", "--name", "Les Lilas")
    if "systemctl enable --now palier" not in init.stdout:
        fail("init does not say how to start the service:\n" + init.stdout)
    for path in ["/etc/palier/config.json", "/var/lib/palier/building.key", "/var/lib/palier/palier.sqlite"]:
        expect_mode(root, path, uid, gid, 0o600)
    ok("sudo palier init: config in /etc/palier, key and store in /var/lib/palier, the palier user's, 0600")
    config = open(os.path.join(root, "etc/palier/config.json")).read()
    if '"palier-screen"' not in config:
        fail("the feed's group is not palier-screen:\n" + config)

    doctor = chroot(root, "palier", "doctor", check=False)
    if doctor.returncode != 0 or "Keys, store and settings are the node's user's, and private." not in doctor.stdout:
        fail("sudo palier doctor finds problems with the package's layout:\n" + doctor.stdout)
    ok("sudo palier doctor: no problem in the package's layout")

    unit_text = open(os.path.join(root, "lib/systemd/system/palier.service")).read()
    unit = unit_settings(unit_text)
    process, notify = run_node(root, unit)
    try:
        notify.settimeout(90)
        started = time.time()
        try:
            message = notify.recv(4096).decode()
        except socket.timeout:
            fail("no READY=1 within 90 s; the node said:\n" + open(os.path.join(BUILD, "deb-test", "node.log")).read())
        if "READY=1" not in message:
            fail("the node notified %r instead of READY=1" % message)
        ok("palier run with the unit's command line, user, groups and protections: READY=1 after %.1f s" % (time.time() - started))
        status = chroot(root, "palier", "status").stdout
        if "Node: running" not in status:
            fail("palier status does not see the running node:\n" + status)
        ok("sudo palier status beside the service: running")
        chroot(root, "palier", "post", "notice", "--title", "Coupure d'eau jeudi", "--body", "De 9 h à 11 h.")
        listed = chroot(root, "palier", "list").stdout
        if "Coupure d'eau jeudi" not in listed:
            fail("the post is not listed:\n" + listed)
        ok("sudo palier post beside the service")
        feed = os.path.join(root, "var/lib/palier/run/feed.sock")
        if not os.path.exists(feed):
            fail("no feed socket at /var/lib/palier/run/feed.sock; status says:\n" + status)
        info = os.lstat(feed)
        if not stat.S_ISSOCK(info.st_mode) or info.st_gid != int(screen[2]) or stat.S_IMODE(info.st_mode) != 0o660:
            fail("the feed socket is %d:%d %o, expected palier-screen 0660" % (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)))
        ok("the screens' socket belongs to palier-screen, mode 0660")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            fail("the node did not stop within 30 s of SIGTERM")
        notify.close()
    log = open(os.path.join(BUILD, "deb-test", "node.log")).read()
    if code != 0 or "node stopped" not in log:
        fail("the node ended with %d after SIGTERM:\n%s" % (code, log))
    ok("SIGTERM stops it cleanly")
    for directory in ["var/lib/palier", "etc/palier"]:
        for base, dirs, files in os.walk(os.path.join(root, directory)):
            for name in dirs + files:
                if os.lstat(os.path.join(base, name)).st_uid != uid:
                    fail("%s does not belong to palier" % os.path.join(base, name)[len(root):])
    ok("no file of the node belongs to root")

    # systemd's own check of both units, the kiosk example where its instructions put it.
    shutil.copy(os.path.join(root, "usr/share/doc/palier/examples/palier-kiosk.service"), os.path.join(root, "etc/systemd/system/"))
    verified = chroot(root, "systemd-analyze", "verify", "/lib/systemd/system/palier.service", "/etc/systemd/system/palier-kiosk.service", check=False)
    if verified.returncode != 0 or verified.stdout.strip():
        fail("systemd-analyze verify:\n" + verified.stdout)
    ok("systemd-analyze verify palier.service palier-kiosk.service")

    kept = ["/etc/palier/config.json", "/var/lib/palier/building.key"]
    before = digest(root, *kept)
    chroot(root, "dpkg", "-i", inside)
    if digest(root, *kept) != before:
        fail("reinstalling changed the configuration or the key")
    ok("reinstalling keeps config.json and building.key byte for byte")
    chroot(root, "dpkg", "-r", "palier")
    if os.path.exists(os.path.join(root, "usr/bin/palier")) or digest(root, *kept) != before:
        fail("remove left the binary or lost the building")
    ok("dpkg -r: binary gone, building kept")
    chroot(root, "dpkg", "-P", "palier")
    if os.path.exists(os.path.join(root, "var/lib/palier")) or os.path.exists(os.path.join(root, "etc/palier")):
        fail("purge left /var/lib/palier or /etc/palier")
    ok("dpkg -P: data and configuration deleted")


def main():
    if sys.argv[1:] == ["check"]:
        reason = unavailable()
        print(reason or "available")
        sys.exit(1 if reason else 0)
    reason = unavailable()
    if reason:
        fail(reason)
    if len(sys.argv) > 1:
        deb = os.path.abspath(sys.argv[1])
    else:
        built = run([os.path.join(ROOT_DIR, "scripts", "build-deb.sh")], cwd=ROOT_DIR)
        deb = os.path.join(ROOT_DIR, built.stdout.strip().splitlines()[-1])
        ok("make deb: %s (%d KiB)" % (os.path.relpath(deb, ROOT_DIR), os.path.getsize(deb) // 1024))
    test(deb)
    print("all passed", flush=True)


main()
