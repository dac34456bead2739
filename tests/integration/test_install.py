"""`make install` puts the module where its a2enmod .load file says, so a2enmod works."""
import os
import re
import subprocess

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_make_install_places_module_and_a2enmod_files(tmp_path):
    subprocess.run(["make", "-s", "install", "DESTDIR=%s" % tmp_path], cwd=TOP, check=True,
                   capture_output=True)
    mods = tmp_path / "etc/apache2/mods-available"
    load = (mods / "cloudsmith_saml.load").read_text()
    so_path = re.search(r"^LoadModule cloudsmith_saml_module (\S+)$", load, re.M).group(1)
    assert (tmp_path / so_path.lstrip("/")).is_file()
    assert "# Depends: socache_shmcb" in load
    assert "CloudsmithSAMLSessionCache" in (mods / "cloudsmith_saml.conf").read_text()
    assert not list(tmp_path.rglob("*.la"))
