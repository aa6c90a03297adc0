"""Posts: what they say and when they are due.

Content, recurrence, the status machine (lifecycle), and the services that create, edit, schedule,
distribute, slot and de-duplicate posts.
"""
