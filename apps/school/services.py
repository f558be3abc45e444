"""Writes of the school app: classes, enrolment and register-student (API.md §2.2, §2.1).

Enrolment (`enrol_students`) and register-student (`student_register`) share one code path:
validate every row first (nothing is written if one row fails), then one transaction that
bulk-creates the new users with unusable passwords, adds them to group `student`, adds every
row's user to `Classes.member`, and after commit queues `send_set_password_mail(user_id,
classes_id)` per new user. No password ever exists, is stored, returned, logged or queued.
"""

import csv
import io
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import Group
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, OperationalError, transaction
from django.utils.translation import gettext as _

from apps.school.models import Classes
from apps.school.selectors import classes_enrollable_by
from apps.users.models import STUDENT_GROUP
from apps.users.tasks import send_set_password_mail
from utils.exceptions import DomainError

logger = logging.getLogger(__name__)
User = get_user_model()

ENROLMENT_MAX_ROWS = 2000  # rows per request (API.md §2.2)
ENROLMENT_MAX_FILE_SIZE = 2 * 1024 * 1024  # bytes (API.md §1.8)
CSV_COLUMNS = ("username", "email", "first_name", "last_name")
NAME_MAX_LENGTH = 150  # username, first_name, last_name (Django's AbstractUser)
EMAIL_MAX_LENGTH = 254
FAN_OUT_MIN = 50  # new users from which the per-user mail tasks are published by a worker
_ATTEMPTS = 3  # write attempts when a concurrent enrolment inserts the same username
_RETRYABLE_MYSQL_CODES = (1205, 1213)  # lock wait timeout, deadlock

ErrorDict = dict[str, list[str]]


class EnrolmentError(DomainError):
    """Enrolment or register-student input is invalid; nothing was written (400).

    `errors` is a field-error dict ready for a DRF `ValidationError`:
    enrolment `{"rows": {"<row number>": {"<field>": [str]}}}` or
    `{"students"|"file"|"non_field_errors": [str]}`; register-student
    `{"username"|"email"|"first_name"|"last_name"|"classes": [str]}`.
    """

    status_code = 400
    code = "invalid"
    default_message = "Invalid enrolment."

    def __init__(self, errors: dict[str, Any]) -> None:
        self.errors = errors
        super().__init__(None, **errors)


@dataclass(frozen=True)
class StudentRow:
    """One validated enrolment row; `number` is how errors refer to it."""

    number: int
    username: str
    email: str
    first_name: str = ""
    last_name: str = ""


# --- classes -----------------------------------------------------------------------------------


@transaction.atomic
def classes_create(
    *, user, name: str, slogan: str | None = None, member: Iterable[int] = ()
) -> Classes:
    """Create a class owned by `user` (a teacher); `user` is always added to `member`.

    `member`: ids of active users visible to the caller (checked by the input serializer).
    """
    classes = Classes.objects.create(user=user, name=name, slogan=slogan)
    _members_add(classes_id=classes.pk, user_ids={user.pk, *member})
    return classes


@transaction.atomic
def classes_update(
    *,
    classes: Classes,
    name: str | None = None,
    slogan: str | None = None,
    member: Iterable[int] | None = None,
    fields: Iterable[str] = ("name", "slogan", "member"),
) -> Classes:
    """Update the given `fields` of `classes`; a new `member` list replaces the old one.

    The owner stays a member whatever `member` says. Returns the saved instance.
    """
    fields = set(fields)
    changed = [f for f in ("name", "slogan") if f in fields]
    if "name" in fields:
        classes.name = name
    if "slogan" in fields:
        classes.slogan = slogan
    classes.save(update_fields=[*changed, "update_time"])
    if "member" in fields and member is not None:
        wanted = {classes.user_id, *member}
        through = Classes.member.through
        through.objects.filter(classes_id=classes.pk).exclude(user_id__in=wanted).delete()
        _members_add(classes_id=classes.pk, user_ids=wanted)
    return classes


def classes_delete(*, classes: Classes) -> None:
    """Soft-delete `classes` (`is_delete=True`); it disappears from every list and detail."""
    Classes.objects.filter(pk=classes.pk).update(is_delete=True)
    classes.is_delete = True


def _members_add(*, classes_id: int, user_ids: Iterable[int]) -> None:
    """Insert (classes, user) member rows, ignoring those already there (idempotent)."""
    through = Classes.member.through
    rows = [through(classes_id=classes_id, user_id=uid) for uid in user_ids]
    through.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)


# --- enrolment: parsing and validation ---------------------------------------------------------


def enrolment_rows_from_csv(data: bytes) -> tuple[list[dict[Any, Any]], list[int]]:
    """Parse an enrolment CSV (UTF-8, BOM allowed) into `(rows, row_numbers)`.

    Header: `username,email[,first_name,last_name]` (in this order, case-insensitive). Each row
    is a dict keyed by the header; cells beyond the header go under the key None (a row error
    later). `row_numbers[i]` is the line where record i starts (the header is line 1), as a
    spreadsheet shows it. Blank lines are skipped. Raises EnrolmentError `{"file": [...]}` for
    a file that is too large, not UTF-8, malformed, has a bad header, no rows or > 2000 rows.
    """
    if len(data) > ENROLMENT_MAX_FILE_SIZE:
        raise EnrolmentError({"file": ["File too large (max 2 MB)."]})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise EnrolmentError({"file": ["The file is not UTF-8 encoded text."]}) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[dict[Any, Any]] = []
    numbers: list[int] = []
    line = 1
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        if tuple(header) not in (CSV_COLUMNS[:2], CSV_COLUMNS):
            raise EnrolmentError(
                {"file": ["The header must be username,email[,first_name,last_name]."]}
            )
        line = reader.line_num + 1
        for record in reader:
            if any(cell.strip() for cell in record):
                row: dict[Any, Any] = dict(zip(header, record, strict=False))
                if len(record) > len(header):
                    row[None] = record[len(header) :]
                rows.append(row)
                numbers.append(line)
                if len(rows) > ENROLMENT_MAX_ROWS:
                    break
            line = reader.line_num + 1
    except csv.Error as exc:
        raise EnrolmentError({"file": [f"Malformed CSV near line {line}: {exc}."]}) from None
    _check_count(rows, field="file")
    return rows, numbers


def _check_count(rows: Sequence[Any], *, field: str) -> None:
    if not rows:
        raise EnrolmentError({field: ["At least one student row is required."]})
    if len(rows) > ENROLMENT_MAX_ROWS:
        raise EnrolmentError({field: [f"At most {ENROLMENT_MAX_ROWS} student rows are allowed."]})


_username_validator = UnicodeUsernameValidator()
_email_validator = EmailValidator()


def _clean_text(
    raw: Mapping[str, Any], field: str, errors: ErrorDict, *, required: bool, max_length: int
) -> str:
    value = raw.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = [_("Not a valid string.")]
        return ""
    value = value.strip()
    if required and not value:
        errors[field] = [_("This field is required.")]
    elif len(value) > max_length:
        errors[field] = [f"Ensure this field has no more than {max_length} characters."]
    return value


def _validate_row(number: int, raw: Any) -> tuple[StudentRow | None, ErrorDict]:
    """Validate one raw row (username rules, e-mail, lengths); no DB access."""
    if not isinstance(raw, Mapping):
        return None, {"non_field_errors": ["Each row must be an object."]}
    if None in raw:
        return None, {"non_field_errors": ["This row has more columns than the header."]}
    errors: ErrorDict = {}
    username = _clean_text(raw, "username", errors, required=True, max_length=NAME_MAX_LENGTH)
    username = User.normalize_username(username) if username else username
    if username and "username" not in errors:
        try:
            _username_validator(username)
        except DjangoValidationError as exc:
            errors["username"] = [str(m) for m in exc.messages]
    email = _clean_text(raw, "email", errors, required=True, max_length=EMAIL_MAX_LENGTH)
    if email and "email" not in errors:
        try:
            _email_validator(email)
            email = BaseUserManager.normalize_email(email)
        except DjangoValidationError as exc:
            errors["email"] = [str(m) for m in exc.messages]
    names = {
        field: _clean_text(raw, field, errors, required=False, max_length=NAME_MAX_LENGTH)
        for field in ("first_name", "last_name")
    }
    if errors:
        return None, errors
    return StudentRow(number=number, username=username, email=email, **names), {}


def _validate_all(
    raw_rows: Sequence[Any], row_numbers: Sequence[int] | None
) -> tuple[list[StudentRow], dict[str, ErrorDict]]:
    """Field checks of every row plus duplicate usernames in the file; no DB access."""
    _check_count(raw_rows, field="students")
    rows: list[StudentRow] = []
    errors: dict[str, ErrorDict] = {}
    seen: dict[str, int] = {}  # casefolded username -> first row number
    for position, raw in enumerate(raw_rows, start=1):
        number = row_numbers[position - 1] if row_numbers else position
        row, row_errors = _validate_row(number, raw)
        if row is not None:
            key = row.username.casefold()
            if key in seen:
                row_errors = {"username": [f"Duplicate username (also in row {seen[key]})."]}
            else:
                seen[key] = number
                rows.append(row)
        if row_errors:
            errors[str(number)] = row_errors
    return rows, errors


def validate_rows(
    raw_rows: Sequence[Any], *, row_numbers: Sequence[int] | None = None
) -> list[StudentRow]:
    """Validate every row: field rules, duplicates in the file, existing users (one query).

    Row i is called `row_numbers[i]` (CSV line) when given, else its 1-based position.
    Raises EnrolmentError `{"rows": {"<n>": {"<field>": [str]}}}` listing every bad row,
    e.g. an existing username with another e-mail. Reads only.
    """
    students, errors = _validate_all(raw_rows, row_numbers)
    _new, _existing, db_errors = _resolve(students)
    errors.update(db_errors)
    if errors:
        ordered = sorted(errors.items(), key=lambda item: int(item[0]))
        raise EnrolmentError({"rows": dict(ordered)})
    return students


def _resolve(
    students: list[StudentRow], *, only_new: bool = False
) -> tuple[list[StudentRow], list[int], dict[str, ErrorDict]]:
    """Split rows into new users and ids of existing ones (same username and e-mail).

    Row errors: an existing username with another e-mail; a username differing only in case
    from an existing one (MariaDB compares usernames case-insensitively); with `only_new`, any
    existing username. One query.
    """
    names = [s.username for s in students]
    found = list(User.objects.filter(username__in=names).only("id", "username", "email"))
    by_name = {u.username: u for u in found}
    by_folded = {u.username.casefold(): u for u in found}
    errors: dict[str, ErrorDict] = {}
    new: list[StudentRow] = []
    existing_ids: list[int] = []
    for s in students:
        user = by_name.get(s.username)
        if user is None and s.username.casefold() in by_folded:
            errors[str(s.number)] = {"username": [_unique_username_message()]}
        elif user is None:
            new.append(s)
        elif only_new:
            errors[str(s.number)] = {"username": [_unique_username_message()]}
        elif (user.email or "").casefold() != s.email.casefold():
            errors[str(s.number)] = {
                "email": ["A user with this username already exists with another e-mail."]
            }
        else:
            existing_ids.append(user.pk)
    return new, existing_ids, errors


# --- enrolment: writing --------------------------------------------------------------------------


def enrol_students(
    *,
    classes: Classes,
    rows: Sequence[Any],
    by=None,
    row_numbers: Sequence[int] | None = None,
) -> dict[str, int]:
    """Enrol `rows` into `classes` (API.md §2.2 "Enrolment"); idempotent per row.

    `rows`: dicts `{"username", "email", "first_name"?, "last_name"?}` (1–2000); errors name
    row i `row_numbers[i]` (CSV lines) when given, else i + 1.
    `by`: the enrolling user (checked by the caller: a teacher member or staff), for the log.
    Returns `{"created": n, "added": n, "already_member": n}`, a partition of the rows: new
    users created and added; existing users newly added; existing users already members.
    Raises EnrolmentError (nothing written) when any row is invalid, including an existing
    username with another e-mail. New users get the set-password mail after commit.
    """
    students = validate_rows(rows, row_numbers=row_numbers)
    result, _users = _enrol_with_retry(classes=classes, students=students, notify=True)
    logger.info(
        "enrolment into classes %s by user %s: %s",
        classes.pk,
        getattr(by, "pk", None),
        result,
    )
    return result


def student_register(
    *,
    by,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    classes: Classes | int,
) -> "User":
    """Register one new student into `classes` (API.md §2.1 register-student body).

    Same path as enrolment: unusable password, group `student`, member of the class, the
    set-password mail after commit. `classes` (instance or id) must be a live class `by` may
    enrol into (a teacher member, or staff). Raises EnrolmentError with field errors
    `{"username"|"email"|"first_name"|"last_name"|"classes": [str]}` — e.g. the username
    already exists — and writes nothing then. Returns the new User.
    """
    classes_id = classes.pk if isinstance(classes, Classes) else classes
    target = classes_enrollable_by(user=by).filter(pk=classes_id).first()
    if target is None:
        message = _('Invalid pk "{pk_value}" - object does not exist.').format(pk_value=classes_id)
        raise EnrolmentError({"classes": [message]})
    raw = {"username": username, "email": email, "first_name": first_name, "last_name": last_name}
    row, errors = _validate_row(1, raw)
    if errors:
        raise EnrolmentError(errors)
    _new, _existing, db_errors = _resolve([row], only_new=True)
    if db_errors:
        raise EnrolmentError(db_errors["1"])
    try:
        _result, users = _enrol_with_retry(
            classes=target, students=[row], notify=True, only_new=True
        )
    except EnrolmentError as exc:  # re-key the single row's errors as field errors
        rows = exc.errors.get("rows")
        raise EnrolmentError(next(iter(rows.values())) if rows else exc.errors) from None
    logger.info(
        "student %s registered into classes %s by user %s",
        users[0].pk,
        target.pk,
        getattr(by, "pk", None),
    )
    return users[0]


def students_enrol_quietly(*, classes: Classes, rows: Sequence[Any]) -> dict[str, int]:
    """Like `enrol_students` but sends no mail (demo data only). Returns the same counts."""
    students = validate_rows(rows)
    result, _users = _enrol_with_retry(classes=classes, students=students, notify=False)
    return result


def _unique_username_message() -> str:
    return str(User._meta.get_field("username").error_messages["unique"])


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    code = exc.args[0] if exc.args else None
    return isinstance(exc, OperationalError) and code in _RETRYABLE_MYSQL_CODES


def _enrol_with_retry(
    *, classes: Classes, students: list[StudentRow], notify: bool, only_new: bool = False
) -> tuple[dict[str, int], list]:
    """Run `_enrol_write`, again when a concurrent enrolment inserted one of our usernames.

    The retry re-reads existing users, so a username another request just created becomes
    "existing" (same e-mail) or a row error (other e-mail). Never lets IntegrityError out.
    """
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return _enrol_write(
                classes=classes, students=students, notify=notify, only_new=only_new
            )
        except (IntegrityError, OperationalError) as exc:
            if not _retryable(exc):
                raise
            logger.warning(
                "enrolment into classes %s hit a concurrent write (attempt %s): %s",
                classes.pk,
                attempt,
                type(exc).__name__,
            )
    raise EnrolmentError(
        {"non_field_errors": ["Another enrolment changed these users at the same time; retry."]}
    )


@transaction.atomic
def _enrol_write(
    *, classes: Classes, students: list[StudentRow], notify: bool, only_new: bool
) -> tuple[dict[str, int], list]:
    """One transaction: resolve existing users, create the new ones, add everyone as members.

    Query count is constant in the number of rows (bulk inserts in batches of 500).
    """
    new, existing_ids, errors = _resolve(students, only_new=only_new)
    if errors:  # a concurrent enrolment changed things since validate_rows
        raise EnrolmentError({"rows": errors})

    created_users = _users_create(new)
    new_ids = [u.pk for u in created_users]
    through = Classes.member.through
    already = set(
        through.objects.filter(classes_id=classes.pk, user_id__in=existing_ids).values_list(
            "user_id", flat=True
        )
    )
    to_add = new_ids + [uid for uid in existing_ids if uid not in already]
    _members_add(classes_id=classes.pk, user_ids=to_add)
    if notify and new_ids:  # robust: the rows are committed even if the broker is down
        transaction.on_commit(partial(queue_set_password_mails, new_ids, classes.pk), robust=True)
    result = {
        "created": len(new_ids),
        "added": len(existing_ids) - len(already),
        "already_member": len(already),
    }
    return result, created_users


def queue_set_password_mails(
    user_ids: Sequence[int], classes_id: int, *, fan_out: bool | None = None
) -> None:
    """Queue `send_set_password_mail(user_id, classes_id)` per id (call after commit).

    One Celery task per user (it builds the link itself). Publishing costs about 1 ms per
    message, so from `FAN_OUT_MIN` users on (or with `fan_out=True`) one
    `school.tasks.send_set_password_mails` task is published instead and the worker publishes
    the per-user tasks; smaller batches go out directly over one pooled producer.
    """
    if fan_out is None:
        fan_out = len(user_ids) >= FAN_OUT_MIN
    if fan_out:
        from apps.school.tasks import send_set_password_mails

        send_set_password_mails.delay(list(user_ids), classes_id)
        return
    with send_set_password_mail.app.producer_or_acquire() as producer:
        for user_id in user_ids:
            send_set_password_mail.apply_async((user_id, classes_id), producer=producer)


def _users_create(rows: list[StudentRow]) -> list:
    """Bulk-create users with unusable passwords in group `student`; return them with ids."""
    if not rows:
        return []
    users = []
    for s in rows:
        user = User(
            username=s.username, email=s.email, first_name=s.first_name, last_name=s.last_name
        )
        user.set_unusable_password()  # no password exists: nothing to store, mail or log
        users.append(user)
    User.objects.bulk_create(users, batch_size=500)
    ids = dict(
        User.objects.filter(username__in=[u.username for u in users]).values_list("username", "id")
    )
    for user in users:
        user.pk = user.id = ids[user.username]
    group, _created = Group.objects.get_or_create(name=STUDENT_GROUP)
    through = User.groups.through
    memberships = [through(user_id=u.pk, group_id=group.pk) for u in users]
    through.objects.bulk_create(memberships, ignore_conflicts=True, batch_size=500)
    return users
