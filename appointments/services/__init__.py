"""Every write to applications, one module per concern; each service owns its transaction.

- `booking`: 1 to 5 people on one online session, all or nothing.
- `lifecycle`: the table of status changes and the services that move along it (cancel,
  reschedule, expiry of unpaid holds, no-shows, staff steps); every place given back.
- `counter`: check-in and queue numbers, walk-ins, no-shows marked by staff.
- `queue`: the day's queue at the counter: call next, call again, served, no answer.
- `steps`: the steps at the office (document check ... collection), timed with who and when.
- `people`: the account's listed people and the one check of a person's data.
- `payments`: a payment notice recorded against its bill.
- `reconciliation`: slots' `taken` held equal to the applications on them.
- `hoarding`: hoarding signals of applications counted against the rules; accounts flags.
- `disputes`: NIK disputes: the owner contests a NIK someone else booked; the office decides.
The applicants' messages (which change sends what, and how it reads) are `appointments.outbox`;
notifications.outbox delivers them.
"""
