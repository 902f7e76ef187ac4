# `make demo` and `make test` work on a fresh clone: they install system packages when missing,
# create .venv, install the package, then run.
VENV      := .venv
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed
DEMO_ROOT ?= demo-archive
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo demo-stop test system-deps browser-deps venv lint bench clean mutate

system-deps:
	@if ! command -v soffice >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 \
	    || ! fc-list 2>/dev/null | grep -q "Noto Serif CJK SC" || ! fc-list 2>/dev/null | grep -q "Noto Sans CJK SC"; then \
	  echo "installing LibreOffice, CJK fonts and poppler (about 360 MB)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    --no-install-recommends libreoffice-writer-nogui fonts-noto-cjk poppler-utils >/dev/null; \
	fi

# The web page's browser tests drive Debian's Chromium through its chromedriver (tests/test_web_browser.py).
browser-deps:
	@if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then \
	  echo "installing Chromium and chromedriver for the browser tests (about 300 MB)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    --no-install-recommends chromium chromium-driver >/dev/null; \
	fi

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

DEMO_KEYS ?= demo-keys
DEMO_DOSSIER ?= demo-dossier
# Demo passphrase only: real signers type theirs at the prompt.
demo: export ARCHIVE_PASSPHRASE = demo-passphrase-not-for-production
# Who acts when a line names nobody (archive.toml [audit] require_actor).
demo: export ARCHIVE_ACTOR = 质量保证部 张丽
# The demo users' password (web page logins) only: real users type theirs at the prompt of `archive users add`.
demo: export ARCHIVE_PASSWORD = demo-password-not-for-production
DEMO_PORT ?= 8080
DEMO_PID  := $(DEMO_ROOT).serve.pid
DEMO_LOG  := $(DEMO_ROOT).serve.log

demo: system-deps venv
	@$(MAKE) --no-print-directory demo-stop
	rm -rf $(DEMO_ROOT) $(DEMO_KEYS) $(DEMO_DOSSIER)
	mkdir -p $(DEMO_KEYS)
	$(BIN)/archive --root $(DEMO_ROOT) init
	# The first key is the administrator's; each signer makes their own key, the administrator certifies it.
	$(BIN)/archive --root $(DEMO_ROOT) --actor "档案管理员 李明" keys create liming --name 李明 --title 档案管理员 --out $(DEMO_KEYS)/liming.pem
	$(BIN)/archive --root $(DEMO_ROOT) --actor "质量保证部 张丽" keys create zhangli --name 张丽 --title "QA 主管" --out $(DEMO_KEYS)/zhangli.pem
	$(BIN)/archive --root $(DEMO_ROOT) --actor "质量部 陈工" keys create chen --name 陈工 --title 质量工程师 --out $(DEMO_KEYS)/chen.pem
	$(BIN)/archive --root $(DEMO_ROOT) --actor "质量部经理 黄涛" keys create huangtao --name 黄涛 --title 质量部经理 --out $(DEMO_KEYS)/huangtao.pem
	$(BIN)/archive --root $(DEMO_ROOT) --actor "档案管理员 李明" keys certify zhangli --key $(DEMO_KEYS)/liming.pem
	$(BIN)/archive --root $(DEMO_ROOT) --actor "档案管理员 李明" keys certify chen --key $(DEMO_KEYS)/liming.pem
	$(BIN)/archive --root $(DEMO_ROOT) --actor "档案管理员 李明" keys certify huangtao --key $(DEMO_KEYS)/liming.pem
	$(BIN)/archive --root $(DEMO_ROOT) keys list
	$(BIN)/archive --root $(DEMO_ROOT) --actor "质量保证部 张丽" intake --sign-as $(DEMO_KEYS)/zhangli.pem examples/*.json
	$(BIN)/archive --root $(DEMO_ROOT) --actor "质量保证部 张丽" update 26110001 examples/updates/01-investigation.json
	$(BIN)/archive --root $(DEMO_ROOT) --actor "质量保证部 张丽" update 26110001 examples/updates/01-capa.json
	$(BIN)/archive --root $(DEMO_ROOT) --actor "质量部经理 黄涛" update 26110001 examples/updates/01-close.json
	$(BIN)/archive --root $(DEMO_ROOT) --actor "质量部 陈工" update 26110005 examples/updates/05-investigation.json
	$(BIN)/archive --root $(DEMO_ROOT) --actor "质量部 陈工" update 26110005 examples/updates/05-capa.json
	# 起草, then 审核, then 批准 on each current form ([signatures] order)
	$(BIN)/archive --root $(DEMO_ROOT) --actor "质量保证部 张丽" sign 26110001 --key $(DEMO_KEYS)/zhangli.pem --meaning drafted --document register-form --document investigation-report --document capa-record --document response-feedback
	$(BIN)/archive --root $(DEMO_ROOT) --actor "质量部 陈工" sign 26110001 --key $(DEMO_KEYS)/chen.pem --meaning reviewed
	$(BIN)/archive --root $(DEMO_ROOT) --actor "质量部经理 黄涛" sign 26110001 --key $(DEMO_KEYS)/huangtao.pem --meaning approved
	$(BIN)/archive --root $(DEMO_ROOT) render 26110001 --pdf
	$(BIN)/archive --root $(DEMO_ROOT) render 26110005 --pdf
	$(BIN)/archive --root $(DEMO_ROOT) list
	$(BIN)/archive --root $(DEMO_ROOT) overdue --as-of 2026-11-24
	$(BIN)/archive --root $(DEMO_ROOT) search 破损
	$(BIN)/archive --root $(DEMO_ROOT) search 阻焊 category:quality
	$(BIN)/archive --root $(DEMO_ROOT) --actor "档案管理员 李明" hold 26110005 --reason "客户索赔谈判中,保留全部记录"
	$(BIN)/archive --root $(DEMO_ROOT) holds
	$(BIN)/archive --root $(DEMO_ROOT) retention schedule
	$(BIN)/archive --root $(DEMO_ROOT) purge --as-of 2029-11-22 --approved-by "质量部经理 黄涛"
	$(BIN)/archive --root $(DEMO_ROOT) --actor "质量部经理 黄涛" seal --key $(DEMO_KEYS)/huangtao.pem
	$(BIN)/archive --root $(DEMO_ROOT) verify
	# The inspector's dossier: one signed, bookmarked PDF and a BagIt bag, checked with nothing but the folder.
	$(BIN)/archive --root $(DEMO_ROOT) --actor "质量部经理 黄涛" dossier 26110001 26110005 --out $(DEMO_DOSSIER) --sign-as $(DEMO_KEYS)/huangtao.pem
	$(BIN)/archive dossier check $(DEMO_DOSSIER)
	# The web page: one user per role (the people above), then `archive serve` left running in the background.
	$(BIN)/archive --root $(DEMO_ROOT) --actor "信息部 吴刚" users add wugang --name "信息部 吴刚" --role admin
	$(BIN)/archive --root $(DEMO_ROOT) --actor "信息部 吴刚" users add zhangli --name "质量保证部 张丽" --role qa
	$(BIN)/archive --root $(DEMO_ROOT) --actor "信息部 吴刚" users add liming --name "档案管理员 李明" --role archivist
	$(BIN)/archive --root $(DEMO_ROOT) --actor "信息部 吴刚" users add zhoumin --name "药监检查员 周敏" --role inspector
	$(BIN)/archive --root $(DEMO_ROOT) --actor "信息部 吴刚" users add sunqiang --name "档案室 孙强" --role retention
	$(BIN)/archive --root $(DEMO_ROOT) --actor "信息部 吴刚" users add huangtao --name "质量部经理 黄涛" --role manager
	$(BIN)/archive --root $(DEMO_ROOT) users list
	@port=$$($(BIN)/python -c "import socket,sys; p=int(sys.argv[1]); \
	    print(next(q for q in range(p, p + 100) if socket.socket().connect_ex(('127.0.0.1', q)) != 0))" $(DEMO_PORT)); \
	setsid nohup $(BIN)/archive --root $(DEMO_ROOT) serve --port $$port >$(DEMO_LOG) 2>&1 </dev/null & echo $$! >$(DEMO_PID); \
	for i in $$(seq 150); do \
	  $(BIN)/python -c "import socket,sys; sys.exit(socket.socket().connect_ex(('127.0.0.1', $$port)))" && break; \
	  sleep 0.2; \
	done; \
	$(BIN)/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$$port/login', timeout=10)" \
	  || { echo "archive serve did not answer; see $(DEMO_LOG)"; exit 1; }; \
	echo; \
	echo "网页 / web page: http://127.0.0.1:$$port/  (archive serve, pid $$(cat $(DEMO_PID)), log $(DEMO_LOG))"; \
	echo "demo logins (password $$ARCHIVE_PASSWORD): zhangli 质量保证, liming 档案管理员, zhoumin 检查员,"; \
	echo "  sunqiang 保管销毁专员, huangtao 质量经理, wugang 系统管理员"; \
	echo "stop it: make demo-stop   (or: kill $$(cat $(DEMO_PID)))"

# Ends the web server `make demo` left running (its pid in $(DEMO_PID)), if it still runs.
demo-stop:
	@if [ -f $(DEMO_PID) ]; then kill $$(cat $(DEMO_PID)) 2>/dev/null && echo "stopped archive serve (pid $$(cat $(DEMO_PID)))" || true; rm -f $(DEMO_PID); fi

lint: venv
	$(BIN)/ruff check archive tests bench
	$(BIN)/mypy archive

test: system-deps browser-deps venv lint
	$(BIN)/pytest -q -rs -p no:cacheprovider

# Mutation testing of one module: `make mutate MODULE=archive/rules/workdays.py`. Each mutant runs against the
# fast tests that cover it ([tool.mutmut] in pyproject.toml); one worker, niced, so a shared machine stays usable.
# Lists the mutants that were not killed (an empty list under "not killed" is the goal).
MODULE ?=
MUTANTS = $(subst /,.,$(basename $(MODULE)))
mutate: venv
	@test -n "$(MODULE)" || { echo "usage: make mutate MODULE=archive/rules/workdays.py"; exit 2; }
	nice -n 10 $(BIN)/mutmut run --max-children 1 "$(MUTANTS).*"
	@echo "not killed in $(MODULE) (see: $(BIN)/mutmut show NAME):"
	@$(BIN)/mutmut results | grep -F "$(MUTANTS)." | grep -v ": not checked" || echo "  none"

bench: venv
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/relevance.py
	$(BIN)/python bench/search.py --cases 20000 --cases 100000
	$(BIN)/python bench/report.py --cases 100000
	$(BIN)/python bench/web.py
	$(BIN)/python bench/web.py --engine tantivy

clean: demo-stop
	rm -rf $(VENV) $(DEMO_ROOT) $(DEMO_KEYS) $(DEMO_DOSSIER) $(DEMO_LOG) build *.egg-info mutants
