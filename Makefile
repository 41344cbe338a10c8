# Zhengwen: two commands for a fresh machine (see README.md).
#   make run   installs, prepares a SQLite database with demo data, serves http://127.0.0.1:5000
#   make test  installs what the tests need (and, as root, Debian's chromium, CJK fonts, LibreOffice and
#              poppler), runs the suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app app
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test test-only lint system-packages translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt requirements-bench.txt | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-test.txt
	touch $(VENV)/.installed $@

# The task queue's consumer (app.huey, see essays/jobs) runs beside gunicorn; Ctrl-C stops both.
run: $(VENV)/.installed
	$(FLASK) init-db
	$(FLASK) demo --keep-existing
	$(BIN)/huey_consumer app.huey --workers 2 --worker-type thread & consumer=$$!; \
	trap 'kill $$consumer 2>/dev/null; wait $$consumer 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --workers 1 --threads 8 --bind $(HOST):$(PORT) --access-logfile - 'app:create_app()'

# Browser tests drive Debian's Chromium; CJK fonts make the screenshots legible. The documents
# made after the results are rendered for a look with LibreOffice (soffice --headless --convert-to
# pdf; the nogui build is the smallest that does) and poppler's pdftoppm, without their
# recommends (no Java, no desktop integration).
BROWSER_PACKAGES := chromium chromium-driver fonts-noto-cjk
RENDER_PACKAGES  := libreoffice-writer-nogui poppler-utils
system-packages:
	@missing=""; for p in $(BROWSER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	render=""; for p in $(RENDER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || render="$$render $$p"; done; \
	if [ -n "$$missing$$render" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq; \
	    if [ -n "$$missing" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	    if [ -n "$$render" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$render; fi; \
	  else \
	    echo "缺少系统软件包:$$missing$$render —— 请以 root 运行 make test，或先执行 sudo apt-get install$$missing$$render"; exit 1; \
	  fi; \
	fi

test: $(VENV)/.installed-test system-packages test-only

test-only: lint
	$(BIN)/pytest -q -p no:cacheprovider

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

translations: $(VENV)/.installed-test
	$(BIN)/pybabel extract -F babel.cfg -k _l --project=Zhengwen --version=1.0 \
	  --ignore-dirs=".* _* instance demo-files test-artifacts tests migrations bench" \
	  -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --ignore-obsolete
	$(BIN)/pybabel compile -d translations --statistics

clean:
	rm -rf $(VENV) instance demo-files test-artifacts
