import Mustache

/// The console's pages as Mustache templates, compiled into the binary: no files to install
/// or lose, and no build step. `{{name}}` escapes HTML (& < > " '); the only unescaped
/// output is `{{{…}}}` of strings this module built itself (none of them holds a stranger's text).
enum Templates {
    static let header = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{#pending}}({{pending}}) {{/pending}}{{title}} — Warden</title>
    <link rel="stylesheet" href="/static/console.css">
    <script src="/static/console.js" defer></script>
    </head><body data-page="{{page}}">
    <header class="top">
      <a class="brand" href="/">Warden review</a>
      {{#user}}
      <nav>
        <a href="/" {{#nav_queue}}aria-current="page"{{/nav_queue}}>Queue{{#pending}} <span class="count" id="pending-count">{{pending}}</span>{{/pending}}</a>
        <a href="/search" {{#nav_search}}aria-current="page"{{/nav_search}}>Past decisions</a>
        <a href="/rules" {{#nav_rules}}aria-current="page"{{/nav_rules}}>Rules</a>
        <a href="/audit" {{#nav_audit}}aria-current="page"{{/nav_audit}}>Audit</a>
        {{#is_admin}}<a href="/users" {{#nav_users}}aria-current="page"{{/nav_users}}>Users</a>{{/is_admin}}
      </nav>
      <form method="post" action="/logout" class="logout">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <span class="who">{{user}} ({{role}})</span> <button type="submit">Log out</button>
      </form>
      {{/user}}
    </header>
    <main>
    {{#flash}}<p class="flash {{flash_kind}}" role="status" id="flash">{{flash}}</p>{{/flash}}
    """

    static let footer = """
    </main>
    <div id="help" class="help" hidden>
      <h2>Keyboard</h2>
      <dl>
        <dt>j / k</dt><dd>next / previous item</dd>
        <dt>o or Enter</dt><dd>open the selected item</dd>
        <dt>s</dt><dd>select the item for a bulk action</dd>
        <dt>r</dt><dd>release (with the reason chosen)</dd>
        <dt>x</dt><dd>remove (with the message and reason shown)</dd>
        <dt>?</dt><dd>show or hide this help</dd>
      </dl>
    </div>
    </body></html>
    """

    static let login = """
    {{> header}}
    <section class="login">
      <h1>Log in</h1>
      <form method="post" action="/login">
        <input type="hidden" name="csrf" value="{{login_csrf}}">
        <label>User <input name="name" autocomplete="username" required autofocus></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
        <button type="submit">Log in</button>
      </form>
    </section>
    {{> footer}}
    """

    static let queue = """
    {{> header}}
    <h1>Review queue <small>{{pending}} pending</small></h1>
    <form method="get" action="/" class="filters">
      <label>Guideline <select name="guideline"><option value="">any</option>{{#guideline_options}}<option value="{{id}}" {{#selected}}selected{{/selected}}>{{title}}</option>{{/guideline_options}}</select></label>
      <label>Rule <input name="rule" value="{{filter_rule}}" list="rule-ids"></label>
      <datalist id="rule-ids">{{{rule_options}}}</datalist>
      <label>Author <input name="author" value="{{filter_author}}"></label>
      <button type="submit">Filter</button> {{#filtered}}<a href="/">clear</a>{{/filtered}}
    </form>
    <form method="post" action="/bulk" id="bulk">
      <input type="hidden" name="csrf" value="{{csrf}}">
      <table class="queue">
        <thead><tr><th></th><th>Waiting</th><th>Kind</th><th>Post</th><th>Author</th><th>Guidelines</th><th>Rules</th><th>Text</th><th>Instance</th><th>Claim</th></tr></thead>
        <tbody>
        {{#items}}{{{html}}}{{/items}}
        {{^items}}<tr><td colspan="10" class="empty">Nothing waits for review.</td></tr>{{/items}}
        </tbody>
      </table>
      {{#has_items}}
      <fieldset class="bulk">
        <legend>With the selected items</legend>
        <label>Reason <select name="reason_pick">{{#bulk_reasons}}<option>{{.}}</option>{{/bulk_reasons}}</select></label>
        <label>Note <input name="reason_text" maxlength="500"></label>
        <label>Removal <select name="removal"><option value="hide">hide</option><option value="delete">delete</option></select></label>
        <button type="submit" name="verdict" value="released">Release selected</button>
        <button type="submit" name="verdict" value="removed" class="danger">Remove selected</button>
      </fieldset>
      {{/has_items}}
    </form>
    {{#more}}<p class="more">Showing the first {{shown}} of {{pending}}.</p>{{/more}}
    <p class="hint">Press <kbd>?</kbd> for keyboard shortcuts.</p>
    {{> footer}}
    """

    /// One row of the queue, rendered apart so that the console can keep it (see
    /// `ReviewConsole.queueRows`); the queue page places it with `{{{html}}}`.
    static let queueRow = """
    <tr class="item {{kind}}" data-href="/item/{{item_id}}" data-id="{{item_id}}">
      <td><input type="checkbox" name="item" value="{{item_id}}:{{version}}" aria-label="select {{item_id}}"></td>
      <td class="waited">{{waited}}</td>
      <td><span class="badge {{kind}}">{{kind_label}}</span></td>
      <td><a class="open" href="/item/{{item_id}}">{{post_id}}</a></td>
      <td><bdi>{{author}}</bdi></td>
      <td>{{guidelines}}</td>
      <td>{{rules}}</td>
      <td class="preview"><bdi>{{preview}}</bdi></td>
      <td class="instance"><bdi>{{instance}}</bdi>{{#ruleset_differs}} <span class="badge ruleset-differs" title="judged with other rules than most instances: {{ruleset}}">other rules</span>{{/ruleset_differs}}</td>
      <td>{{#claimed_by}}<span class="claimed">{{claimed_by}}</span>{{/claimed_by}}</td>
    </tr>
    """

    /// The rule ids offered by the queue's rule filter, rendered once per rule set.
    static let ruleOptions = """
    {{#rule_ids}}<option value="{{.}}">{{/rule_ids}}
    """

    /// Text with highlighted spans and visible control characters; used by several pages.
    static let postText = """
    <div class="post-text" dir="auto">{{#segments}}{{#mark}}<mark title="{{rule}}">{{text}}</mark>{{/mark}}{{#control}}<span class="control" title="invisible control character">{{text}}</span>{{/control}}{{#plain}}{{text}}{{/plain}}{{/segments}}</div>
    """

    static let authorCard = """
    <aside class="author-card" id="author-card">
      <h2>Author <bdi>{{author.name}}</bdi> <small><a href="/author?id={{author.url_id}}"><bdi>{{author.id}}</bdi></a></small></h2>
      <p>Strikes in the last {{author.window}}: {{#author.strikes}}<span class="strike">{{guideline}} × {{count}}</span> {{/author.strikes}}{{^author.strikes}}none{{/author.strikes}}</p>
      <p>Escalation: {{#author.escalation}}<strong class="escalation">{{author.escalation}}</strong>{{/author.escalation}}{{^author.escalation}}none{{/author.escalation}}</p>
      <h3>Last decisions</h3>
      <ul class="history">{{#author.history}}<li><a href="/decision/{{post_id}}">{{post_id}}</a> {{action}} {{guidelines}} <small>{{at}}</small></li>{{/author.history}}{{^author.history}}<li>none</li>{{/author.history}}</ul>
      <h3>Pardons and escalations by hand</h3>
      <ul>{{#author.pardons}}<li>{{what}} <small>{{at}}</small></li>{{/author.pardons}}{{^author.pardons}}<li>none</li>{{/author.pardons}}</ul>
      <form method="post" action="/author/pardon" class="pardon">
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="author" value="{{author.id}}">
        <label>Pardon <select name="guideline"><option value="">all guidelines</option>{{#author.strike_guidelines}}<option>{{.}}</option>{{/author.strike_guidelines}}</select></label>
        <label>Reason <input name="reason_text" required maxlength="500"></label>
        <button type="submit">Pardon</button>
      </form>
      <form method="post" action="/author/escalate" class="pardon" id="form-escalate">
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="author" value="{{author.id}}">
        <label>Escalate by hand <select name="escalation"><option value="hold_author">hold all their posts</option><option value="block_author">block</option></select></label>
        <label>Reason <input name="reason_text" required maxlength="500"></label>
        <button type="submit" class="danger">Escalate</button>
      </form>
    </aside>
    """

    static let item = """
    {{> header}}
    <h1>{{kind_label}} <code>{{post_id}}</code> <small>waiting {{waited}}</small></h1>
    {{#claim_notice}}<p class="claim-notice" id="claim-notice">{{claim_notice}}</p>{{/claim_notice}}
    <div class="item-layout">
    <section class="item-main">
      {{#appeal}}
      <div class="appeal">
        <h2>Appeal from the poster</h2>
        {{#appeal_text}}{{> postText}}{{/appeal_text}}
      </div>
      <h2>Original decision</h2>
      {{/appeal}}
      <p class="meta"><span class="badge action-{{action}}">{{action}}</span> {{#escalation}}<span class="badge escalation">{{escalation}}</span>{{/escalation}}
        guidelines: <strong>{{guidelines}}</strong> · rules: <strong>{{rules}}</strong> · decided {{decided_at}}
        <br><span id="judged-by">judged by instance <strong><bdi>{{instance}}</bdi></strong> with ruleset <code>{{ruleset}}</code></span>{{#ruleset_differs}}
        <strong class="ruleset-differs">(not the ruleset most instances run: {{prevailing_ruleset}})</strong>{{/ruleset_differs}}
        {{#held_because}}<br>held because: {{held_because}}{{/held_because}}</p>
      {{#post_text}}{{> postText}}{{/post_text}}
      {{#message}}<h3>Message the poster was sent</h3><pre class="message">{{message}}</pre>{{/message}}
      {{#public_note}}<h3>Public note</h3><pre class="message">{{public_note}}</pre>{{/public_note}}
      <p><a href="/decision/{{post_id}}.json" id="decision-json">Decision JSON</a> · <a href="/decision/{{post_id}}">History of this post</a></p>

      {{#can_act}}
      <div class="actions">
      {{#verdict_release}}
      <form method="post" action="/item/{{item_id}}" class="act" id="form-release">
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="version" value="{{version}}">
        <input type="hidden" name="verdict" value="{{verdict_release}}">
        <h3>{{release_label}}</h3>
        <label>Reason <select name="reason_pick">{{#release_reasons}}<option>{{.}}</option>{{/release_reasons}}</select></label>
        <label>Note <input name="reason_text" maxlength="500"></label>
        <label>Message to the poster <textarea name="message" rows="3">{{release_message}}</textarea></label>
        <label class="inline"><input type="checkbox" name="next" value="1" checked> then open the next item</label>
        <button type="submit" id="release">{{release_label}} <kbd>r</kbd></button>
      </form>
      {{/verdict_release}}
      {{#verdict_remove}}
      <form method="post" action="/item/{{item_id}}" class="act" id="form-remove">
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="version" value="{{version}}">
        <input type="hidden" name="verdict" value="{{verdict_remove}}">
        <h3>{{remove_label}}</h3>
        {{#ask_removal}}<label>Action <select name="removal"><option value="hide">hide</option><option value="delete" {{#delete_default}}selected{{/delete_default}}>delete</option></select></label>{{/ask_removal}}
        {{#ask_guideline}}<label>Guideline broken <select name="guideline">{{#guideline_options}}<option value="{{id}}">{{title}}</option>{{/guideline_options}}</select></label>{{/ask_guideline}}
        <label>Reason <select name="reason_pick">{{#remove_reasons}}<option>{{.}}</option>{{/remove_reasons}}</select></label>
        <label>Note <input name="reason_text" maxlength="500"></label>
        <label>Message to the poster <textarea name="message" rows="5" id="remove-message">{{remove_message}}</textarea></label>
        <label class="inline"><input type="checkbox" name="next" value="1" checked> then open the next item</label>
        <button type="submit" id="remove" class="danger">{{remove_label}} <kbd>x</kbd></button>
      </form>
      {{/verdict_remove}}
      </div>
      {{/can_act}}
      {{#has_reviews}}<h3>Reviews</h3><ul>{{#reviews}}<li>{{moderator}} {{verdict}} at {{at}}: <q>{{reason}}</q></li>{{/reviews}}</ul>{{/has_reviews}}
    </section>
    {{> authorCard}}
    </div>
    {{#next_item}}<a href="/item/{{next_item}}" id="next-item" rel="next" hidden>next</a>{{/next_item}}
    {{> footer}}
    """

    static let search = """
    {{> header}}
    <h1>Past decisions</h1>
    <form method="get" action="/search" class="filters">
      <label>Search <input name="q" value="{{q}}" autofocus></label>
      <label>in <select name="in">{{#fields}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/fields}}</select></label>
      <button type="submit">Search</button>
    </form>
    {{#searched}}
    <table class="queue">
      <thead><tr><th>Post</th><th>Action</th><th>Guidelines</th><th>Author</th><th>Decided</th><th>Text</th></tr></thead>
      <tbody>
      {{#results}}<tr><td><a href="/decision/{{post_id}}">{{post_id}}</a></td><td>{{action}}</td><td>{{guidelines}}</td><td><bdi>{{author}}</bdi></td><td>{{at}}</td><td class="preview"><bdi>{{preview}}</bdi></td></tr>{{/results}}
      {{^results}}<tr><td colspan="6" class="empty">No decision matches.</td></tr>{{/results}}
      </tbody>
    </table>
    {{/searched}}
    {{> footer}}
    """

    static let message = """
    {{> header}}
    <h1>{{title}}</h1>
    <p class="message-text">{{text}}</p>
    <p><a href="{{back}}">Back</a></p>
    {{> footer}}
    """

    static let author = """
    {{> header}}
    <h1>Author <bdi>{{author.id}}</bdi></h1>
    {{> authorCard}}
    {{> footer}}
    """

    static let rules = """
    {{> header}}
    <h1>Rules in production</h1>
    <p>Precision is the share of moderator reviews that confirmed the rule's action, with a 95 % Wilson interval.
    A rule whose reversal rate is above {{threshold}} (with at least {{min_reviews}} reviews) is marked.</p>
    <table class="rules">
      <thead><tr><th>Rule</th><th>Guideline</th><th>Action</th><th>Mode</th><th>Hits</th><th>Reviews</th><th>Reversals</th><th>Precision</th><th>95 % interval</th><th>Last change</th></tr></thead>
      <tbody>
      {{#rules}}
      <tr class="{{#flagged}}flagged{{/flagged}}" id="rule-{{id}}">
        <td><code>{{id}}</code></td><td>{{guideline}}</td><td>{{action}}</td>
        <td>{{mode}}{{#demoted}} <strong class="demoted">demoted</strong>{{#can_confirm}}
          <form method="post" action="/rules/confirm" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="rule" value="{{id}}"><button type="submit">Confirm</button></form>{{/can_confirm}}{{/demoted}}</td>
        <td>{{hits}}</td><td>{{reviews}}</td><td>{{reversals}}</td><td>{{precision}}</td><td>{{interval}}</td><td>{{changed}}</td>
      </tr>
      {{/rules}}
      </tbody>
    </table>
    <h2 id="instances">Instances</h2>
    <p>Each instance's daemon judges with its own copy of the rules; the digest is that of the last decision its console indexed.
    {{#disagree}}<strong class="ruleset-differs" id="instances-disagree">The instances judge with different rules: deploy the same rules everywhere.</strong>{{/disagree}}</p>
    <table class="instances">
      <thead><tr><th>Instance</th><th>Ruleset</th><th>Last decision</th><th>Last seen</th></tr></thead>
      <tbody>
      {{#instances}}
      <tr class="{{#differs}}flagged{{/differs}}"><td><bdi>{{name}}</bdi>{{#this_host}} (this host){{/this_host}}</td>
        <td><code>{{ruleset}}</code>{{#differs}} <strong class="ruleset-differs">differs</strong>{{/differs}}</td><td>{{last_decided_at}}</td><td>{{last_seen}}{{#stale}} <strong>not seen for over a day: left out of the comparison</strong>{{/stale}}</td></tr>
      {{/instances}}
      {{^instances}}<tr><td colspan="4" class="empty">No instance has indexed a decision yet.</td></tr>{{/instances}}
      </tbody>
    </table>
    {{> footer}}
    """

    static let audit = """
    {{> header}}
    <h1>Audit log</h1>
    <form method="get" action="/audit" class="filters">
      <label>Moderator <input name="moderator" value="{{moderator}}"></label>
      <label>Item <input name="item" value="{{item}}"></label>
      <button type="submit">Filter</button>
    </form>
    <table class="audit">
      <thead><tr><th>#</th><th>Time</th><th>Moderator</th><th>Item</th><th>Action</th><th>Reason</th><th>Before</th><th>After</th></tr></thead>
      <tbody>
      {{#entries}}<tr><td>{{id}}</td><td>{{at}}</td><td>{{moderator}}</td><td>{{item}}</td><td>{{action}}</td><td>{{reason}}</td><td><code>{{before}}</code></td><td><code>{{after}}</code></td></tr>{{/entries}}
      {{^entries}}<tr><td colspan="8" class="empty">No entries.</td></tr>{{/entries}}
      </tbody>
    </table>
    {{> footer}}
    """

    static let users = """
    {{> header}}
    <h1>Users</h1>
    <table class="users"><thead><tr><th>Name</th><th>Role</th><th></th></tr></thead><tbody>
    {{#users}}<tr><td>{{name}}</td><td>{{role}}</td><td>
      <form method="post" action="/users" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="name" value="{{name}}">
        <button type="submit" name="op" value="reset">Reset password</button> <button type="submit" name="op" value="remove" class="danger">Remove</button></form>
    </td></tr>{{/users}}
    </tbody></table>
    <h2>Add a user</h2>
    <form method="post" action="/users">
      <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="op" value="add">
      <label>Name <input name="name" required maxlength="64"></label>
      <label>Role <select name="role"><option>moderator</option><option>admin</option></select></label>
      <button type="submit">Add (a password is generated and shown once)</button>
    </form>
    {{> footer}}
    """

    /// All templates, registered under their names (partials included).
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        let all: [(String, String)] = [
            ("header", header), ("footer", footer), ("login", login), ("queue", queue), ("postText", postText),
            ("authorCard", authorCard), ("item", item), ("search", search), ("message", message), ("author", author),
            ("rules", rules), ("audit", audit), ("users", users), ("queueRow", queueRow), ("ruleOptions", ruleOptions),
        ]
        for (name, source) in all { try library.register(source, named: name) }
        return library
    }
}
