package sailpoint

import (
	"time"

	"github.com/certops/certops/internal/certs"
)

// Wire shapes: the JSON of v3.yaml and per-service-v1.yaml (identical for
// everything here), with only the fields certops reads. They stay private;
// methods return certs types.

type reviewerDTO struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Email *string `json:"email"`
	Type  string  `json:"type"`
}

func (r reviewerDTO) domain() certs.Reviewer {
	return certs.Reviewer{ID: r.ID, Name: r.Name, Email: deref(r.Email), Type: certs.ReviewerType(r.Type)}
}

type campaignReferenceDTO struct {
	ID                          string  `json:"id"`
	Name                        string  `json:"name"`
	Type                        string  `json:"type"`
	CampaignType                string  `json:"campaignType"`
	Description                 *string `json:"description"`
	CorrelatedStatus            string  `json:"correlatedStatus"`
	MandatoryCommentRequirement string  `json:"mandatoryCommentRequirement"`
}

type certificationReferenceDTO struct {
	ID       string       `json:"id"`
	Name     string       `json:"name"`
	Type     string       `json:"type"`
	Reviewer *reviewerDTO `json:"reviewer"`
}

type reassignmentDTO struct {
	From    *certificationReferenceDTO `json:"from"`
	Comment string                     `json:"comment"`
}

// identityCertificationDTO is IdentityCertificationDto.
type identityCertificationDTO struct {
	ID                  string               `json:"id"`
	Name                string               `json:"name"`
	Campaign            campaignReferenceDTO `json:"campaign"`
	Completed           bool                 `json:"completed"`
	IdentitiesCompleted int                  `json:"identitiesCompleted"`
	IdentitiesTotal     int                  `json:"identitiesTotal"`
	Created             time.Time            `json:"created"`
	Modified            time.Time            `json:"modified"`
	DecisionsMade       int                  `json:"decisionsMade"`
	DecisionsTotal      int                  `json:"decisionsTotal"`
	Due                 *time.Time           `json:"due"`
	Signed              *time.Time           `json:"signed"`
	Reviewer            *reviewerDTO         `json:"reviewer"`
	Reassignment        *reassignmentDTO     `json:"reassignment"`
	HasErrors           bool                 `json:"hasErrors"`
	ErrorMessage        *string              `json:"errorMessage"`
	Phase               string               `json:"phase"`
}

func (d identityCertificationDTO) domain() certs.Certification {
	c := certs.Certification{
		ID:   d.ID,
		Name: d.Name,
		Campaign: certs.Campaign{
			ID:                          d.Campaign.ID,
			Name:                        d.Campaign.Name,
			CampaignType:                certs.CampaignType(d.Campaign.CampaignType),
			Description:                 deref(d.Campaign.Description),
			CorrelatedStatus:            d.Campaign.CorrelatedStatus,
			MandatoryCommentRequirement: d.Campaign.MandatoryCommentRequirement,
		},
		Phase:               certs.Phase(d.Phase),
		Completed:           d.Completed,
		Due:                 d.Due,
		Signed:              d.Signed,
		IdentitiesCompleted: d.IdentitiesCompleted,
		IdentitiesTotal:     d.IdentitiesTotal,
		DecisionsMade:       d.DecisionsMade,
		DecisionsTotal:      d.DecisionsTotal,
		Created:             d.Created,
		Modified:            d.Modified,
		HasErrors:           d.HasErrors,
		ErrorMessage:        deref(d.ErrorMessage),
	}
	if d.Reviewer != nil {
		c.Reviewer = d.Reviewer.domain()
	}
	if d.Reassignment != nil && d.Reassignment.From != nil {
		from := d.Reassignment.From
		c.Reassignment = &certs.ReassignedFrom{
			CertificationID:   from.ID,
			CertificationName: from.Name,
			Comment:           d.Reassignment.Comment,
		}
		if from.Reviewer != nil {
			c.Reassignment.Reviewer = from.Reviewer.domain()
		}
	}
	return c
}

// identityReferenceWithNameAndEmailDTO is IdentityReferenceWithNameAndEmail.
type identityReferenceWithNameAndEmailDTO struct {
	Type  string  `json:"type"`
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Email *string `json:"email"`
}

func (d identityReferenceWithNameAndEmailDTO) domain() certs.IdentityRef {
	return certs.IdentityRef{ID: d.ID, Name: d.Name, Email: deref(d.Email), Type: d.Type}
}

type reviewableEntitlementDTO struct {
	ID             string  `json:"id"`
	Name           string  `json:"name"`
	Description    *string `json:"description"`
	Privileged     bool    `json:"privileged"`
	SourceName     string  `json:"sourceName"`
	HasPermissions bool    `json:"hasPermissions"`
}

type reviewableAccessProfileDTO struct {
	ID           string                     `json:"id"`
	Name         string                     `json:"name"`
	Description  *string                    `json:"description"`
	Privileged   bool                       `json:"privileged"`
	Entitlements []reviewableEntitlementDTO `json:"entitlements"`
}

type reviewableRoleDTO struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	Privileged  bool    `json:"privileged"`
}

// accessReviewItemDTO is AccessReviewItem.
type accessReviewItemDTO struct {
	AccessSummary *struct {
		Access *struct {
			Type string `json:"type"`
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"access"`
		Entitlement   *reviewableEntitlementDTO   `json:"entitlement"`
		AccessProfile *reviewableAccessProfileDTO `json:"accessProfile"`
		Role          *reviewableRoleDTO          `json:"role"`
	} `json:"accessSummary"`
	IdentitySummary *struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		IdentityID string `json:"identityId"`
		Completed  bool   `json:"completed"`
	} `json:"identitySummary"`
	ID        string  `json:"id"`
	Completed bool    `json:"completed"`
	NewAccess bool    `json:"newAccess"`
	Decision  *string `json:"decision"`
	Comments  *string `json:"comments"`
}

func (d accessReviewItemDTO) domain() certs.ReviewItem {
	it := certs.ReviewItem{
		ID:        d.ID,
		Completed: d.Completed,
		NewAccess: d.NewAccess,
		Decision:  certs.Decision(deref(d.Decision)),
		Comments:  deref(d.Comments),
	}
	if s := d.IdentitySummary; s != nil {
		it.IdentitySummary = certs.IdentitySummary{ID: s.ID, Name: s.Name, IdentityID: s.IdentityID, Completed: s.Completed}
	}
	if s := d.AccessSummary; s != nil {
		if s.Access != nil {
			it.Access = certs.Access{Type: certs.AccessType(s.Access.Type), ID: s.Access.ID, Name: s.Access.Name}
		}
		switch {
		case s.Entitlement != nil:
			e := s.Entitlement
			it.Access.Description = deref(e.Description)
			it.Access.SourceName = e.SourceName
			it.Access.Privileged = e.Privileged
			it.Access.HasPermissions = e.HasPermissions
		case s.AccessProfile != nil:
			ap := s.AccessProfile
			it.Access.Description = deref(ap.Description)
			it.Access.Privileged = ap.Privileged
			// An access profile has no source of its own in the DTO; its
			// entitlements come from one source.
			for _, e := range ap.Entitlements {
				if e.SourceName != "" {
					it.Access.SourceName = e.SourceName
					break
				}
			}
		case s.Role != nil:
			it.Access.Description = deref(s.Role.Description)
			it.Access.Privileged = s.Role.Privileged
		}
	}
	return it
}

// permissionDTO is PermissionDto.
type permissionDTO struct {
	Rights []string `json:"rights"`
	Target string   `json:"target"`
}

func (d permissionDTO) domain() certs.Permission {
	return certs.Permission{Rights: d.Rights, Target: d.Target}
}

// certificationTaskDTO is CertificationTask.
type certificationTaskDTO struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	TargetType string            `json:"targetType"`
	TargetID   string            `json:"targetId"`
	Status     string            `json:"status"`
	Errors     []errorMessageDTO `json:"errors"`
	Trail      []struct {
		PreviousOwner    string `json:"previousOwner"`
		NewOwner         string `json:"newOwner"`
		ReassignmentType string `json:"reassignmentType"`
	} `json:"reassignmentTrailDTOs"`
	Created time.Time `json:"created"`
}

func (d certificationTaskDTO) domain() certs.Task {
	t := certs.Task{
		ID:         d.ID,
		Type:       certs.TaskType(d.Type),
		TargetType: d.TargetType,
		TargetID:   d.TargetID,
		Status:     certs.TaskStatus(d.Status),
		Created:    d.Created,
	}
	for _, e := range d.Errors {
		t.Errors = append(t.Errors, upstreamText(e.Text))
	}
	for _, tr := range d.Trail {
		t.Trail = append(t.Trail, certs.ReassignmentTrail{PreviousOwner: tr.PreviousOwner, NewOwner: tr.NewOwner, ReassignmentType: tr.ReassignmentType})
	}
	return t
}

// publicIdentityDTO is PublicIdentity.
type publicIdentityDTO struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	Alias         string  `json:"alias"`
	Email         *string `json:"email"`
	Status        *string `json:"status"`
	IdentityState *string `json:"identityState"`
	Manager       *struct {
		ID string `json:"id"`
	} `json:"manager"`
}

func (d publicIdentityDTO) domain() certs.Identity {
	id := certs.Identity{ID: d.ID, Name: d.Name, Alias: d.Alias, Email: deref(d.Email), Status: deref(d.Status), State: deref(d.IdentityState)}
	if d.Manager != nil {
		id.ManagerID = d.Manager.ID
	}
	return id
}

// reviewReassignDTO is ReviewReassign, the body of both reassign calls.
type reviewReassignDTO struct {
	Reassign   []reassignReferenceDTO `json:"reassign"`
	ReassignTo string                 `json:"reassignTo"`
	Reason     string                 `json:"reason"`
}

type reassignReferenceDTO struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

func reassignBody(r certs.Reassignment) []byte {
	dto := reviewReassignDTO{ReassignTo: r.To, Reason: r.Reason, Reassign: make([]reassignReferenceDTO, len(r.Refs))}
	for i, ref := range r.Refs {
		dto.Reassign[i] = reassignReferenceDTO{ID: ref.ID, Type: string(ref.Type)}
	}
	return jsonBody(dto)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// mapAll converts a page of DTOs.
func mapAll[D interface{ domain() T }, T any](ds []D) []T {
	out := make([]T, len(ds))
	for i, d := range ds {
		out[i] = d.domain()
	}
	return out
}
